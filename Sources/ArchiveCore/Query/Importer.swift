import Foundation
import LlamaCloudClient
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
        /// Records older than the session already archived: skipped, with a note.
        public var older = 0
        public var failed = 0
        public var seconds = 0.0
    }

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// How far an import has come, for a progress line.
    public struct Progress: Sendable {
        public var records = 0
        public var bytesRead = 0
        /// The files' sizes added up; nil when reading standard input.
        public var totalBytes: Int?
        public var elapsed = 0.0
    }

    /// Called from the writing thread now and then (every 256 records).
    public var onProgress: ((Progress) -> Void)?

    /// Sessions are committed in batches: one transaction per `batchSize` sessions.
    static let batchSize = 500

    private let store: ArchiveStore
    private let onFailure: (String) -> Void
    private var report = Report()
    private var runID: Int64 = 0
    private var batch: [(session: NormalizedSession, file: String, line: Int)] = []
    private var checkpointer: WALCheckpointer?

    private let onNote: (String) -> Void

    public init(store: ArchiveStore, onFailure: @escaping (String) -> Void, onNote: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.onFailure = onFailure
        self.onNote = onNote
    }

    public func run(paths: [String]) throws -> Report {
        let started = Date()
        let files = try paths.flatMap(Self.expand)
        runID = try store.beginRun(source: "import", projects: nil, at: Timestamp.now())
        var fatal: String?
        defer {
            var summary = SyncSummary()
            summary.status = fatal != nil ? .failed : report.failed > 0 ? .partial : .ok
            summary.listed = report.records
            summary.new = report.new
            summary.updated = report.updated
            summary.unchanged = report.unchanged
            summary.failed = report.failed
            try? store.finishRun(runID, summary: summary, message: fatal, at: Timestamp.now())
        }
        do { return try importFiles(files, started: started) } catch {
            fatal = "\(error)"
            throw error
        }
    }

    private func importFiles(_ files: [String], started: Date) throws -> Report {
        try store.prepareForBulkWrites()
        let checkpointer = WALCheckpointer(path: store.path)
        defer { checkpointer.finish() }
        self.checkpointer = checkpointer
        let queue = BoundedQueue<ImportReader.Item>(capacity: 2 * Self.batchSize)
        let reader = ImportReader(files: files, knownHashes: try store.liveSourceHashes(), hashKey: try store.sourceHashKey(),
                                  queue: queue)
        let thread = Thread { reader.run() }
        thread.stackSize = 8 << 20  // deep JSON recursion stays within the parser's limit, not the stack's
        thread.start()
        defer { queue.cancel() }
        var progress = Progress()
        progress.totalBytes = files.contains("-") ? nil : files.reduce(0) {
            $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0)
        }
        while let item = queue.pop() {
            if let onProgress, report.records % 256 == 0 {
                progress.records = report.records
                progress.bytesRead = reader.bytesRead
                progress.elapsed = Date().timeIntervalSince(started)
                onProgress(progress)
            }
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
            let outcomes = try store.batch { try pending.map { try saveUnlessOlder($0.session) } }
            for (outcome, entry) in zip(outcomes, pending) { count(outcome, entry.session, file: entry.file, line: entry.line) }
            checkpointer?.request()
        } catch let error as SQLiteError where error.isEnvironmental {
            throw Failure(description: "cannot write the archive \(store.path): \(error.message)")
        } catch {
            // Find the session that failed: the others go in one by one.
            for (session, file, line) in pending {
                do { count(try saveUnlessOlder(session), session, file: file, line: line) } catch let error as SQLiteError where error.isEnvironmental {
                    throw Failure(description: "cannot write the archive \(store.path): \(error.message)")
                } catch {
                    fail("\(file):\(line): session \(Printable.clean(session.sessionID, limit: 200)): \(error)")
                }
            }
        }
    }

    /// An older snapshot of a session never replaces the newer history the archive holds.
    private func saveUnlessOlder(_ session: NormalizedSession) throws -> ArchiveStore.SaveOutcome {
        try store.save(session, projectID: nil, organizationID: nil, syncedAt: Timestamp.now(), keepingNewer: true)
    }

    private func count(_ outcome: ArchiveStore.SaveOutcome, _ session: NormalizedSession, file: String, line: Int) {
        switch outcome {
        case .olderThanArchived(let archived):
            report.older += 1
            onNote("\(file):\(line): session \(Printable.clean(session.sessionID, limit: 200)) was last updated \(session.lastUpdatedAt), "
                   + "before the archived \(archived): skipped")
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
    let knownHashes: [SourceHash: String]
    let hashKey: SourceHash.Key
    private let consumed = ByteCount()
    /// Bytes of the input read so far (all files).
    var bytesRead: Int { consumed.value }
    let queue: BoundedQueue<Item>

    init(files: [String], knownHashes: [SourceHash: String], hashKey: SourceHash.Key, queue: BoundedQueue<Item>) {
        self.files = files
        self.knownHashes = knownHashes
        self.hashKey = hashKey
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
            reader.onRead = { [consumed] in consumed.add($0) }
            if !read(reader, name: name, tokenizer: tokenizer) { return }
        }
    }

    private static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private static func parses(_ line: [UInt8]) -> Bool { (try? JSONParser.parse(line)) != nil }

    /// The file's shape is decided from the file, not from whether its first
    /// line is good: `[` first is an array (streamed element by element);
    /// otherwise JSONL when the first or the second line is a whole JSON
    /// value (a bad first line is one bad record), else one document, which
    /// if it does not parse is read as JSONL after all, each bad line
    /// reported. A UTF-8 BOM is skipped. False when the writer has stopped listening.
    private func read(_ reader: LineReader, name: String, tokenizer: FTS5Tokenizer?) -> Bool {
        // An array whose first line fills the first megabyte (one line, say)
        // is streamed from the start, never read as one line.
        let ahead = reader.lookahead(1 << 20)
        if ahead.starts(with: [0xEF, 0xBB, 0xBF]) { reader.skip(3) }
        let opening = ahead.drop { [0xEF, 0xBB, 0xBF, 0x20, 0x09, 0x0D].contains($0) }
        if opening.first == UInt8(ascii: "["), !opening.contains(0x0A) {
            return readArray(first: nil, reader: reader, name: name, tokenizer: tokenizer)
        }
        var lines = LineSource(reader)
        guard var first = lines.next() else { return reportReadError(reader, name: name) }
        while Self.isBlank(first.line) {
            guard let next = lines.next() else { return reportReadError(reader, name: name) }
            first = next
        }
        let startsArray = first.line.first(where: { ![0x20, 0x09, 0x0D].contains($0) }) == UInt8(ascii: "[")
        if startsArray && (Self.parses(first.line) || first.line.filter({ ![0x20, 0x09, 0x0D].contains($0) }) == [UInt8(ascii: "[")]) {
            return readArray(first: first, reader: reader, name: name, tokenizer: tokenizer)
        }
        var second = lines.next()
        while let line = second, Self.isBlank(line.line) { second = lines.next() }
        if startsArray && !(second.map { $0.line.first == UInt8(ascii: "{") && Self.parses($0.line) } ?? false) {
            return readArray(first: first, then: second, reader: reader, name: name, tokenizer: tokenizer)
        }
        if Self.parses(first.line) || second.map({ Self.parses($0.line) }) == true {
            lines.pushBack(contentsOf: [first] + (second.map { [$0] } ?? []))
            return readLines(&lines, reader: reader, name: name, tokenizer: tokenizer)
        }
        // One document over several lines, or JSONL whose first two lines are both bad.
        var all = [first] + (second.map { [$0] } ?? [])
        while let next = lines.next() { all.append(next) }
        guard reportReadError(reader, name: name) else { return false }
        var whole = Array(repeating: UInt8(ascii: "\n"), count: first.number - 1)
        for line in all { whole += line.line; whole.append(UInt8(ascii: "\n")) }
        if let value = try? JSONParser.parse(whole) {
            return queue.push(item(value, file: name, line: first.number, hash: nil, tokenizer: tokenizer))
        }
        lines.pushBack(contentsOf: all)
        return readLines(&lines, reader: reader, name: name, tokenizer: tokenizer)
    }

    private func readLines(_ lines: inout LineSource, reader: LineReader, name: String, tokenizer: FTS5Tokenizer?) -> Bool {
        while let next = lines.next() {
            if Self.isBlank(next.line) { continue }
            guard queue.push(item(bytes: next.line, file: name, line: next.number, tokenizer: tokenizer)) else { return false }
        }
        return reportReadError(reader, name: name)
    }

    /// A JSON array, one element at a time, however it is laid out on lines
    /// (all on one, too): after the lines already read, the file is fed to
    /// the splitter in chunks, so memory stays flat.
    private func readArray(first: (line: [UInt8], number: Int)?, then second: (line: [UInt8], number: Int)? = nil,
                           reader: LineReader, name: String, tokenizer: FTS5Tokenizer?) -> Bool {
        var splitter = JSONArraySplitter(firstLine: first?.number ?? 1)
        var failure: String?
        var pieces = first.map { [$0.line + [0x0A]] } ?? []
        if let first, let second {
            pieces.append(Array(repeating: 0x0A, count: second.number - first.number - 1) + second.line + [0x0A])
        }
        while failure == nil, let bytes = pieces.isEmpty ? reader.nextChunk() : pieces.removeFirst() {
            let listening = splitter.feed(bytes) { element, line in
                queue.push(item(bytes: element, file: name, line: line, tokenizer: tokenizer))
            } onError: { failure = "\(name):\($0): \($1)" }
            guard listening else { return false }
        }
        if let failure { return queue.push(.failed(failure)) }
        guard reportReadError(reader, name: name) else { return false }
        if let unfinished = splitter.finish() { return queue.push(.failed("\(name):\(unfinished.line): \(unfinished.reason)")) }
        return true
    }

    /// A failed read is reported, never taken for the end of the file.
    private func reportReadError(_ reader: LineReader, name: String) -> Bool {
        guard let error = reader.readError else { return true }
        _ = queue.push(.fatal("\(name): read error after line \(reader.linesRead): \(String(cString: strerror(error)))"))
        return false
    }

    private func item(bytes: [UInt8], file: String, line: Int, tokenizer: FTS5Tokenizer?) -> Item {
        let hash = SourceHash.of(bytes, key: hashKey)
        // Guard against a hash collision: the bytes must name that session.
        if let id = knownHashes[hash], bytes.firstRange(of: Array(JSONValue.string(id).serialized.utf8)) != nil {
            return .unchanged
        }
        do { return item(try JSONParser.parse(bytes), file: file, line: line, hash: hash, tokenizer: tokenizer) } catch {
            return .failed("\(file):\(line): \(error.message)")
        }
    }

    private func item(_ value: JSONValue, file: String, line: Int, hash: SourceHash?, tokenizer: FTS5Tokenizer?) -> Item {
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

/// A count one thread adds to and another reads.
final class ByteCount: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ count: Int) { lock.lock(); total += count; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return total }
}
