import Foundation
import LosslessJSON
import SQLiteCore

/// `archive import`: sessions as the retrieve endpoint returns them, one
/// object per file, a JSON array, or JSONL; files, folders (their .json,
/// .jsonl and .ndjson files) or `-` for standard input. Each session goes
/// through the same store path as sync. A bad record is reported as
/// `file:line: reason` and the others are kept.
///
/// Reading and parsing run on a thread of their own, ahead of the writer
/// (this thread), through a bounded queue: memory stays flat, and the two
/// halves of the work overlap on two cores.
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

    /// Sessions are committed in batches: one transaction per `batchSize` sessions.
    static let batchSize = 500

    private let store: ArchiveStore
    private let onFailure: (String) -> Void
    private var report = Report()
    private var runID: Int64 = 0
    private var batch: [(session: NormalizedSession, file: String, line: Int)] = []
    private var checkpointer: WALCheckpointer?

    public init(store: ArchiveStore, onFailure: @escaping (String) -> Void) {
        self.store = store
        self.onFailure = onFailure
    }

    public func run(paths: [String]) throws -> Report {
        let started = Date()
        let files = try paths.flatMap(Self.expand)
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
        try store.prepareForBulkWrites()
        let checkpointer = WALCheckpointer(path: store.path)
        defer { checkpointer.finish() }
        self.checkpointer = checkpointer
        let queue = BoundedQueue<ImportReader.Item>(capacity: 2 * Self.batchSize)
        let reader = ImportReader(files: files, knownHashes: try store.liveSourceHashes(), queue: queue)
        let thread = Thread { reader.run() }
        thread.stackSize = 8 << 20  // deep JSON recursion stays within the parser's limit, not the stack's
        thread.start()
        defer { queue.cancel() }
        while let item = queue.pop() {
            switch item {
            case .file:
                report.files += 1
            case let .session(session, file, line):
                report.records += 1
                batch.append((session, file, line))
                if batch.count >= Self.batchSize { try commitBatch() }
            case .unchanged:
                report.records += 1
                report.unchanged += 1
            case .failed(let message):
                report.records += 1
                fail(message)
            case .fatal(let message):
                try commitBatch()
                throw Failure(description: message)
            }
        }
        try commitBatch()
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    static func expand(_ path: String) throws -> [String] {
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

    private func commitBatch() throws {
        guard !batch.isEmpty else { return }
        let pending = batch
        batch.removeAll(keepingCapacity: true)
        do {
            let outcomes = try store.batch {
                try pending.map { try store.save($0.session, projectID: nil, organizationID: nil, syncedAt: Timestamp.now()) }
            }
            outcomes.forEach(count)
            checkpointer?.request()
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

    private func fail(_ message: String) {
        report.failed += 1
        onFailure(message)
        try? store.recordFailure(runID: runID, sessionID: "(import)", projectID: nil, httpStatus: nil, message: message,
                                 at: Timestamp.now())
    }
}

/// The reading half of an import: files to parsed, normalised sessions.
final class ImportReader: Sendable {
    enum Item: Sendable {
        case file
        case session(NormalizedSession, file: String, line: Int)
        /// A record whose bytes the archive already holds for a live session.
        case unchanged
        case failed(String)
        case fatal(String)
    }

    let files: [String]
    let knownHashes: [Int64: String]
    let queue: BoundedQueue<Item>

    init(files: [String], knownHashes: [Int64: String], queue: BoundedQueue<Item>) {
        self.files = files
        self.knownHashes = knownHashes
        self.queue = queue
    }

    func run() {
        defer { queue.finish() }
        // The search index's tokenizer on a connection of this thread's own: tokens made here are not made by the writer.
        let tokenizer = try? FTS5Tokenizer(database: Database(path: ":memory:"), spec: ArchiveStore.searchTokenizer)
        for path in files {
            guard queue.push(.file) else { return }
            let name = path == "-" ? "<stdin>" : path
            guard let reader = LineReader(path: path) else {
                _ = queue.push(.fatal("\(name): cannot be read"))
                return
            }
            if !read(reader, name: name, tokenizer: tokenizer) { return }
        }
    }

    private static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// JSONL when the first line is a whole JSON value; otherwise the file is
    /// one object or one array. False when the writer has stopped listening.
    private func read(_ reader: LineReader, name: String, tokenizer: FTS5Tokenizer?) -> Bool {
        guard var first = reader.nextLine() else { return true }
        while Self.isBlank(first.line), let next = reader.nextLine() { first = next }
        if let value = try? JSONParser.parse(first.line) {
            guard queue.push(item(value, file: name, line: first.number, hash: SourceHash.of(first.line), tokenizer: tokenizer)) else { return false }
            while let next = reader.nextLine() {
                if Self.isBlank(next.line) { continue }
                guard queue.push(item(bytes: next.line, file: name, line: next.number, tokenizer: tokenizer)) else { return false }
            }
            return true
        }
        var whole = Array(repeating: UInt8(ascii: "\n"), count: first.number - 1) + first.line + [UInt8(ascii: "\n")]
        while let next = reader.nextLine() { whole += next.line; whole.append(UInt8(ascii: "\n")) }
        let firstByte = whole.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        do throws(JSONParseError) {
            if firstByte == UInt8(ascii: "[") {
                let elements = try whole.withUnsafeBufferPointer { buffer throws(JSONParseError) in try JSONParser.parseArrayElements(buffer) }
                for element in elements {
                    guard queue.push(item(element.value, file: name, line: element.line, hash: nil, tokenizer: tokenizer)) else { return false }
                }
                return true
            }
            return queue.push(item(try JSONParser.parse(whole), file: name, line: first.number, hash: nil, tokenizer: tokenizer))
        } catch {
            return queue.push(.failed("\(name):\(error.line): \(error.message)"))
        }
    }

    private func item(bytes: [UInt8], file: String, line: Int, tokenizer: FTS5Tokenizer?) -> Item {
        let hash = SourceHash.of(bytes)
        // Guard against a hash collision: the bytes must name that session.
        if let id = knownHashes[hash], bytes.firstRange(of: Array(JSONValue.string(id).serialized.utf8)) != nil {
            return .unchanged
        }
        do { return item(try JSONParser.parse(bytes), file: file, line: line, hash: hash, tokenizer: tokenizer) } catch {
            return .failed("\(file):\(line): \(error.message)")
        }
    }

    private func item(_ value: JSONValue, file: String, line: Int, hash: Int64?, tokenizer: FTS5Tokenizer?) -> Item {
        do {
            let session = try Normalizer.normalize(value, sourceHash: hash)
            return .session(tokenizer.map(session.withSearchTokens) ?? session, file: file, line: line)
        } catch {
            return .failed("\(file):\(line): \(error.description)")
        }
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

    private func nextNewline() -> Int? {
        buffer.withUnsafeBytes { bytes -> Int? in
            guard start < bytes.count, let found = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) else { return nil }
            return UnsafeRawPointer(found) - bytes.baseAddress!
        }
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
            if count <= 0 { finished = true } else { buffer.append(contentsOf: chunk[0..<count]) }
        }
    }
}
