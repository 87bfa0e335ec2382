import Foundation

/// Reads a file (or standard input) line by line in large chunks.
final class LineReader {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false
    private var lineNumber = 0
    /// Told of the bytes of each read, for progress.
    var onRead: ((Int) -> Void)?
    /// The errno of a read that failed (the reading stopped there).
    private(set) var readError: Int32?
    var linesRead: Int { lineNumber }

    init?(path: String) {
        if path == "-" {
            descriptor = STDIN_FILENO
            ownsDescriptor = false
        } else {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            ownsDescriptor = true
            if descriptor < 0 { return nil }
        }
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    private func nextNewline() -> Int? {
        buffer.withUnsafeBytes { bytes -> Int? in
            guard start < bytes.count, let found = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) else { return nil }
            return UnsafeRawPointer(found) - bytes.baseAddress!
        }
    }

    /// At least `count` bytes ahead (fewer at the end of the file), not consumed.
    func lookahead(_ count: Int) -> ArraySlice<UInt8> {
        while buffer.count - start < count && !finished {
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            let read = chunk.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if read < 0 && errno == EINTR { continue }
            if read < 0 { readError = errno }
            if read <= 0 { finished = true } else { buffer.append(contentsOf: chunk[0..<read]); onRead?(read) }
        }
        return buffer[start..<min(buffer.count, start + count)]
    }

    /// Passes over `count` bytes already looked ahead at.
    func skip(_ count: Int) { start = min(buffer.count, start + count) }

    /// What is left of the file, a chunk at a time, whatever its lines (nil at the end).
    func nextChunk() -> [UInt8]? {
        if start < buffer.count {
            defer { buffer.removeAll(keepingCapacity: true); start = 0 }
            return Array(buffer[start...])
        }
        while !finished {
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { readError = errno }
            if count <= 0 { finished = true } else { onRead?(count); return Array(chunk[0..<count]) }
        }
        return nil
    }

    func nextLine() -> (line: [UInt8], number: Int)? {
        while true {
            if let newline = nextNewline() {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                lineNumber += 1
                return (line, lineNumber)
            }
            if finished {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                lineNumber += 1
                return (line, lineNumber)
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { readError = errno }
            if count <= 0 { finished = true } else { buffer.append(contentsOf: chunk[0..<count]); onRead?(count) }
        }
    }
}
