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
    /// Files and records read, and what saving them came to (`older`: a
    /// record older than the session archived, skipped with a note;
    /// `forgotten`: a session forgotten on purpose; `failed`: records that
    /// could not be read or saved).
    @dynamicMemberLookup
    public struct Report: CountsSaves, Sendable, Equatable {
        public var files = 0
        public var records = 0
        public var saved = SaveCounts()
        public var seconds = 0.0

        private enum Keys: String, CodingKey { case files, records, seconds }

        public func encode(to encoder: any Encoder) throws {
            try saved.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(files, forKey: .files)
            try container.encode(records, forKey: .records)
            try container.encode(seconds, forKey: .seconds)
        }
    }

    public enum ImportError: Error, CustomStringConvertible, Equatable {
        case noSuchPath(String)
        /// Reading stopped (a file that cannot be read); `message` names it.
        case reading(String)

        public var description: String {
            switch self {
            case .noSuchPath(let path): "\(path): no such file or folder"
            case .reading(let message): message
            }
        }
    }

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

    private let store: ArchiveWriter
    private let onFailure: (String) -> Void
    private var report = Report()
    private var runID: Int64 = 0
    private let onNote: (String) -> Void
    private let redactor: Redactor
    /// The project the imported sessions belong to, as a sync of it records
    /// it; nil: they keep the one a sync gave them (new ones have none).
    public var projectID: String?
    /// The source the imported sessions belong to (added on first sight).
    public var sourceName = SourceKey.defaultName
    private var source = SourceKey.default

    public init(store: ArchiveWriter, redactor: Redactor = Redactor(), onFailure: @escaping (String) -> Void,
                onNote: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.redactor = redactor
        self.onFailure = onFailure
        self.onNote = onNote
    }

    public func run(paths: [String]) throws -> Report {
        let started = Date()
        let files = try paths.flatMap(Self.expand)
        runID = try store.beginRun(source: "import", projects: projectID.map { JSONValue.array([.string($0)]).serialized }, at: Timestamp.now())
        var fatal: String?
        defer {
            var summary = SyncSummary()
            summary.status = fatal != nil ? .failed : report.failed > 0 ? .partial : .ok
            summary.listed = report.records
            summary.new = report.new
            summary.updated = report.updated
            summary.unchanged = report.unchanged
            summary.forgotten = report.forgotten
            summary.failed = report.failed
            try? store.finishRun(runID, summary: summary, message: fatal, at: Timestamp.now())
        }
        do { return try importFiles(files, started: started) } catch {
            fatal = "\(error)"
            throw error
        }
    }

    private func importFiles(_ files: [String], started: Date) throws -> Report {
        source = try store.source(named: sourceName)
        try store.prepareForBulkWrites()
        try WALCheckpointer.running(path: store.path, enabled: !store.externalCheckpoints) { checkpoint in
            let saver = SessionSaver<(file: String, line: Int)>(
                writer: store, organizationID: nil, keepingNewer: true, batchSize: Self.batchSize,
                onSaved: { [self] entry, outcome in
                    if let faults = entry.session.numberFaults, outcome.wroteSession {
                        onNote("\(entry.origin.file):\(entry.origin.line): session \(Printable.clean(entry.session.sessionID, limit: 200)): \(faults)")
                    }
                    guard case .olderThanArchived(let archived) = outcome else { return }
                    onNote("\(entry.origin.file):\(entry.origin.line): session \(Printable.clean(entry.session.sessionID, limit: 200)) "
                           + "was last updated \(entry.session.lastUpdatedAt), before the archived \(archived): skipped")
                },
                onFailed: { [self] entry, error in
                    // The saver counts it (`saver.counts.failed`).
                    fail("\(entry.origin.file):\(entry.origin.line): session \(Printable.clean(entry.session.sessionID, limit: 200)): \(error)",
                         counted: true)
                },
                afterCommit: checkpoint)
            defer { report.saved += saver.counts }
            try readAndSave(files, started: started, saver: saver)
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Reads on a thread of its own, ahead of this one, which saves.
    private func readAndSave(_ files: [String], started: Date, saver: SessionSaver<(file: String, line: Int)>) throws {
        let queue = BoundedQueue<ImportReader.Item>(capacity: 2 * Self.batchSize)
        let reader = ImportReader(files: files, knownHashes: try store.reader.liveSourceHashes(source: source), hashKey: try store.reader.sourceHashKey(),
                                  redactor: redactor, queue: queue)
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
                try saver.add(session, projectID: projectID, source: source, origin: (file, line))
            case .unchanged:
                report.records += 1
                report.unchanged += 1
            case .failed(let message):
                report.records += 1
                fail(message)
            case .fatal(let message):
                try saver.commit()
                throw ImportError.reading(message)
            }
        }
        try saver.commit()
    }

    static func expand(_ path: String) throws -> [String] {
        if path == "-" { return ["-"] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImportError.noSuchPath(path)
        }
        guard isDirectory.boolValue else { return [path] }
        guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
        var files: [String] = []
        for case let relative as String in walker where [".json", ".jsonl", ".ndjson"].contains(where: relative.hasSuffix) {
            files.append((path as NSString).appendingPathComponent(relative))
        }
        return files.sorted()
    }

    private func fail(_ message: String, counted: Bool = false) {
        if !counted { report.failed += 1 }
        onFailure(message)
        try? store.recordFailure(runID: runID, sessionID: "(import)", projectID: nil, httpStatus: nil, message: message,
                                 at: Timestamp.now())
    }
}
