import CZlib
import Foundation

/// A gzip file's lines, read in pieces: the dataset export reads back the
/// files it wrote when it must rewrite one without a session. Also gives the
/// file's size and SHA-256, as the writer does, so the manifest can list it.
final class GzipFileReader {
    let path: String
    private let handle: FileHandle
    private let stream: UnsafeMutablePointer<z_stream>
    private var digest = SHA256()
    private(set) var bytesRead = 0

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw GzipError(path: path, reason: "cannot be read") }
        self.path = path
        self.handle = handle
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, ARCHIVE_GZIP_WINDOW_BITS, ARCHIVE_ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            try? handle.close()
            throw GzipError(path: path, reason: "zlib refused to start (\(status))")
        }
    }

    /// Calls `body` with each line, its newline dropped; then the file's size and SHA-256.
    func forEachLine(_ body: ([UInt8]) throws -> Void) throws -> (bytes: Int, sha256: String) {
        var line: [UInt8] = []
        var output = [UInt8](repeating: 0, count: 1 << 16)
        var ended = false
        while let input = try handle.read(upToCount: 1 << 16), !input.isEmpty {
            var bytes = [UInt8](input)
            digest.update(bytes[...])
            bytesRead += bytes.count
            var offset = 0
            var full = false
            // Until zlib has taken all the input and has no more output for it.
            while offset < bytes.count || full {
                if ended {
                    // Another gzip member follows the one that ended.
                    guard inflateReset(stream) == Z_OK else { throw GzipError(path: path, reason: "zlib failed to go on") }
                    ended = false
                }
                let (status, taken, produced) = try bytes.withUnsafeMutableBufferPointer { inputBuffer in
                    try output.withUnsafeMutableBufferPointer { outputBuffer in
                        stream.pointee.next_in = UnsafePointer(inputBuffer.baseAddress! + offset)
                        stream.pointee.avail_in = UInt32(inputBuffer.count - offset)
                        stream.pointee.next_out = outputBuffer.baseAddress
                        stream.pointee.avail_out = UInt32(outputBuffer.count)
                        let status = CZlib.inflate(stream, Z_NO_FLUSH)
                        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                            throw GzipError(path: path, reason: "is not a whole gzip file (zlib \(status))")
                        }
                        return (status, inputBuffer.count - offset - Int(stream.pointee.avail_in),
                                outputBuffer.count - Int(stream.pointee.avail_out))
                    }
                }
                offset += taken
                ended = status == Z_STREAM_END
                full = produced == output.count && !ended
                var start = 0
                for index in 0..<produced where output[index] == UInt8(ascii: "\n") {
                    line += output[start..<index]
                    try body(line)
                    line.removeAll(keepingCapacity: true)
                    start = index + 1
                }
                line += output[start..<produced]
                if taken == 0 && produced == 0 { break }
            }
        }
        guard ended else { throw GzipError(path: path, reason: "ends before its gzip stream does") }
        if !line.isEmpty { try body(line) }
        return (bytesRead, digest.hexDigest())
    }

    deinit {
        inflateEnd(stream)
        try? handle.close()
        stream.deallocate()
    }
}
