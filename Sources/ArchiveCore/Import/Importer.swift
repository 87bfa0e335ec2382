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
