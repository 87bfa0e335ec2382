import Foundation

/// The one writer of a sync: a thread of its own that takes what the
/// retrieves bring from a bounded queue and commits it through the
/// `SessionSaver` import uses too, so that writing never keeps the scheduler
/// from keeping `concurrency` requests in flight. Sessions are committed
/// together while more are waiting, and at once when none are.
final class SyncWriter: @unchecked Sendable {
    enum Item: Sendable {
        case session(NormalizedSession, project: String?, source: SourceKey)
        case gone(sessionID: String, source: SourceKey)
        case failure(sessionID: String, project: String?, source: SourceKey, status: Int?, message: String)
        /// After a complete listing of a project, once its sessions are written.
        case markMissingDeleted(project: String?, source: SourceKey, listed: [String])
    }

    /// A source's run: its `sync_runs` row, and the organization its sessions belong to.
    struct Run: Sendable {
        let id: Int64
        let organizationID: String?
    }

    struct Counts: Sendable {
        var retrieved = 0, deleted = 0, failed = 0
        var saves = SaveCounts()
    }

    /// Sessions committed in one transaction at the most, while more wait.
    static let batchSize = 64

    private let store: ArchiveWriter
    private let runs: [SourceKey: Run]
    private let queue: BoundedQueue<Item>
    private let lock = NSLock()
    private var counts: [SourceKey: Counts] = [:]
    private var stopped: ArchiveError?
    private var finished: CheckedContinuation<Void, Never>?
    private var ended = false

    /// Runs `body` with a writer thread beside it. The thread has written
    /// everything queued, and ended, before this returns its counts and, if
    /// it stopped, why.
    static func running(store: ArchiveWriter, runs: [SourceKey: Run], capacity: Int,
                        _ body: (SyncWriter) async -> Void) async -> (counts: [SourceKey: Counts], failure: ArchiveError?) {
        let writer = SyncWriter(store: store, runs: runs, capacity: capacity)
        let thread = Thread { writer.work() }
        thread.name = "sync-writer"
        thread.start()
        await body(writer)
        let counts = await writer.finish()
        return (counts, writer.failure)
    }

    private init(store: ArchiveWriter, runs: [SourceKey: Run], capacity: Int) {
        self.store = store
        self.runs = runs
        queue = BoundedQueue(capacity: capacity, wakeAfter: 1)
    }

    /// Queues an item; waits while the queue is full. False once the writer has failed.
    @discardableResult
    func submit(_ item: Item) -> Bool { queue.push(item) }

    /// Why the writer stopped, once it has.
    var failure: ArchiveError? { lock.lock(); defer { lock.unlock() }; return stopped }
    var snapshot: [SourceKey: Counts] { lock.lock(); defer { lock.unlock() }; return counts }

    /// Writes what is queued, then waits for the thread to end.
    private func finish() async -> [SourceKey: Counts] {
        queue.finish()
        await withCheckedContinuation { continuation in
            lock.lock()
            if ended {
                lock.unlock()
                continuation.resume()
            } else {
                finished = continuation
                lock.unlock()
            }
        }
        return snapshot
    }

    private func work() {
        let store = self.store, runs = self.runs
        let saver = SessionSaver<Void>(writer: store, organizationID: nil, keepingNewer: false, batchSize: Self.batchSize,
                                       onSaved: { [unowned self] entry, outcome in update(entry.source) { $0.saves.count(outcome) } },
                                       onFailed: { [unowned self] entry, error in
            // One session the archive could not take: recorded, and the sync goes on.
            update(entry.source) { $0.saves.failed += 1 }
            try? store.recordFailure(runID: runs[entry.source]?.id ?? 0, sessionID: entry.session.sessionID, projectID: entry.projectID,
                                     source: entry.source, httpStatus: nil, message: "cannot archive it: \(error)", at: Timestamp.now())
        })
        do {
            while let item = queue.pop() {
                try write(item, saver: saver)
                if queue.isEmpty { try commit(saver) }
            }
            try commit(saver)
        } catch {
            lock.lock()
            stopped = (error as? ArchiveError) ?? .cannotWrite(path: store.path, reason: "\(error)")
            lock.unlock()
            queue.cancel()
        }
        lock.lock()
        ended = true
        let waiting = finished
        lock.unlock()
        waiting?.resume()
    }

    private func commit(_ saver: SessionSaver<Void>) throws {
        guard saver.hasPending else { return }
        try saver.commit()
    }

    private func write(_ item: Item, saver: SessionSaver<Void>) throws {
        if case let .session(session, project, source) = item {
            update(source) { $0.retrieved += 1 }
            try saver.add(session, projectID: project, organizationID: runs[source]?.organizationID, source: source, origin: ())
            return
        }
        try commit(saver)  // what follows a session sees it written
        let now = Timestamp.now()
        switch item {
        case .session: break
        case let .gone(id, source):
            if try store.markDeleted(sessionID: id, source: source, at: now) { update(source) { $0.deleted += 1 } }
        case let .failure(id, project, source, status, message):
            try store.recordFailure(runID: runs[source]?.id ?? 0, sessionID: id, projectID: project, source: source, httpStatus: status,
                                    message: message, at: now)
            update(source) { $0.failed += 1 }
        case let .markMissingDeleted(project, source, listed):
            let marked = try store.markMissingDeleted(projectID: project, source: source, listed: listed, at: now)
            update(source) { $0.deleted += marked }
        }
    }

    private func update(_ source: SourceKey, _ change: (inout Counts) -> Void) {
        lock.lock()
        change(&counts[source, default: Counts()])
        lock.unlock()
    }
}
