import Foundation
import LosslessJSON

/// `archive import`: sessions as the retrieve endpoint returns them, one
/// object per file, a JSON array, or JSONL; files, folders (their .json,
/// .jsonl and .ndjson files) or `-` for standard input. Each session goes
/// through the same store path as sync. A bad record is reported as
/// `file:line: reason` and the others are kept.
public final class Importer {
    public struct Report: Sendable, Codable, Equatable {
        public var files = 0
        public var records = 0
        public var new = 0
        public var updated = 0
        public var unchanged = 0
        public var failed = 0
        public var seconds = 0.0
    }

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    private let store: ArchiveStore
    private let onFailure: (String) -> Void
    private var report = Report()
    private var runID: Int64 = 0

    public init(store: ArchiveStore, onFailure: @escaping (String) -> Void) {
        self.store = store
        self.onFailure = onFailure
    }

    public func run(paths: [String]) throws -> Report {
        let started = Date()
        runID = try store.beginRun(source: "import", projects: nil, at: Timestamp.now())
        defer {
            var summary = SyncSummary()
            summary.status = report.failed > 0 ? .partial : .ok
            summary.listed = report.records
            summary.new = report.new
            summary.updated = report.updated
            summary.unchanged = report.unchanged
            summary.failed = report.failed
            try? store.finishRun(runID, summary: summary, message: nil, at: Timestamp.now())
        }
        let files = try paths.flatMap(expand)
        for file in files { try importFile(file) }
        try commitBatch()
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    private func expand(_ path: String) throws -> [String] {
        if path == "-" { return ["-"] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Failure(description: "\(path): no such file or folder")
        }
        guard isDirectory.boolValue else { return [path] }
        guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
        var files: [String] = []
        for case let relative as String in walker where [".json", ".jsonl", ".ndjson"].contains(where: relative.hasSuffix) {
            files.append((path as NSString).appendingPathComponent(relative))
        }
        return files.sorted()
    }

    private func importFile(_ path: String) throws {
        report.files += 1
        let name = path == "-" ? "<stdin>" : path
        guard let reader = LineReader(path: path) else { throw Failure(description: "\(name): cannot be read") }
        // JSONL when the first line is a whole JSON value; otherwise the file is one object or one array.
        guard var first = reader.nextLine() else { return }
        while first.line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }), let next = reader.nextLine() { first = next }
        if let value = try? parse(first.line) {
            try record(value, file: name, line: first.number, sourceHash: SourceHash.of(first.line))
            while let next = reader.nextLine() {
                if next.line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                let hash = SourceHash.of(next.line)
                if try store.holdsUnchanged(sourceHash: hash, bytes: next.line) {
                    report.records += 1
                    report.unchanged += 1
                    continue
                }
                do { try record(try parse(next.line), file: name, line: next.number, sourceHash: hash) } catch let error as JSONParseError {
                    report.records += 1
                    fail("\(name):\(next.number): \(error.message)")
                }
            }
            return
        }
        var whole = Array(repeating: UInt8(ascii: "\n"), count: first.number - 1) + first.line + [UInt8(ascii: "\n")]
        while let next = reader.nextLine() { whole += next.line; whole.append(UInt8(ascii: "\n")) }
        let firstByte = whole.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        do {
            if firstByte == UInt8(ascii: "[") {
                let elements = try whole.withUnsafeBufferPointer { buffer throws(JSONParseError) in try JSONParser.parseArrayElements(buffer) }
                for element in elements { try record(element.value, file: name, line: element.line) }
            } else {
                try record(try JSONParser.parse(whole), file: name, line: first.number)
            }
        } catch let error as JSONParseError {
            report.records += 1
            fail("\(name):\(error.line): \(error.message)")
        }
    }

    private func parse(_ line: [UInt8]) throws(JSONParseError) -> JSONValue { try JSONParser.parse(line) }

    /// Sessions are committed in batches: one transaction per `batchSize` sessions.
    static let batchSize = 500
    private var batch: [(NormalizedSession, file: String, line: Int)] = []

    private func commitBatch() throws {
        guard !batch.isEmpty else { return }
        let pending = batch
        batch.removeAll(keepingCapacity: true)
        do {
            let outcomes = try store.batch {
                try pending.map { try store.save($0.0, projectID: nil, organizationID: nil, syncedAt: Timestamp.now()) }
            }
            outcomes.forEach(count)
        } catch {
            // Find the session that failed: the others go in one by one.
            for (session, file, line) in pending {
                do { count(try store.save(session, projectID: nil, organizationID: nil, syncedAt: Timestamp.now())) } catch {
                    fail("\(file):\(line): session \(session.sessionID): \(error)")
                }
            }
        }
    }

    private func count(_ outcome: ArchiveStore.SaveOutcome) {
        switch outcome {
        case .new: report.new += 1
        case .unchanged: report.unchanged += 1
        case .appended, .rewritten, .metadataChanged: report.updated += 1
        }
    }

    private func record(_ value: JSONValue, file: String, line: Int, sourceHash: Int64? = nil) throws {
        report.records += 1
        let session: NormalizedSession
        do { session = try Normalizer.normalize(value, sourceHash: sourceHash) } catch {
            fail("\(file):\(line): \(error.description)")
            return
        }
        batch.append((session, file, line))
        if batch.count >= Self.batchSize { try commitBatch() }
    }

    private func fail(_ message: String) {
        report.failed += 1
        onFailure(message)
        try? store.recordFailure(runID: runID, sessionID: "(import)", projectID: nil, httpStatus: nil, message: message,
                                 at: Timestamp.now())
    }
}

/// Reads a file (or standard input) line by line in large chunks.
final class LineReader {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false
    private var lineNumber = 0

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

    func nextLine() -> (line: [UInt8], number: Int)? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
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
            if count <= 0 { finished = true } else { buffer.append(contentsOf: chunk[0..<count]) }
        }
    }
}
