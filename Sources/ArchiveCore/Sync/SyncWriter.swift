import Foundation

/// The one writer of a sync: a thread of its own that takes what the
/// retrieves bring from a bounded queue and commits it through the
/// `SessionSaver` import uses too, so that writing never keeps the scheduler
/// from keeping `concurrency` requests in flight. Sessions are committed
/// together while more are waiting, and at once when none are.
final class SyncWriter: @unchecked Sendable {
    enum Item: Sendable {
        case session(NormalizedSession, project: String?)
        case gone(sessionID: String)
        case failure(sessionID: String, project: String?, status: Int?, message: String)
        /// After a complete listing of a project, once its sessions are written.
        case markMissingDeleted(project: String?, listed: [String])
    }

    struct Counts: Sendable {
        var retrieved = 0, deleted = 0, failed = 0
        var saves = SaveCounts()
    }

    /// Sessions committed in one transaction at the most, while more wait.
    static let batchSize = 64

    private let store: ArchiveWriter
    private let runID: Int64
    private let organizationID: String?
    private let queue: BoundedQueue<Item>
    private let lock = NSLock()
    private var counts = Counts()
    private var stopped: ArchiveError?
    private var finished: CheckedContinuation<Void, Never>?
    private var ended = false

    /// Runs `body` with a writer thread beside it. The thread has written
    /// everything queued, and ended, before this returns its counts and, if
    /// it stopped, why.
    static func running(store: ArchiveWriter, runID: Int64, organizationID: String?, capacity: Int,
                        _ body: (SyncWriter) async -> Void) async -> (counts: Counts, failure: ArchiveError?) {
        let writer = SyncWriter(store: store, runID: runID, organizationID: organizationID, capacity: capacity)
        let thread = Thread { writer.work() }
        thread.name = "sync-writer"
        thread.start()
        await body(writer)
        let counts = await writer.finish()
        return (counts, writer.failure)
    }

    private init(store: ArchiveWriter, runID: Int64, organizationID: String?, capacity: Int) {
        self.store = store
        self.runID = runID
        self.organizationID = organizationID
        queue = BoundedQueue(capacity: capacity, wakeAfter: 1)
    }

    /// Queues an item; waits while the queue is full. False once the writer has failed.
    @discardableResult
    func submit(_ item: Item) -> Bool { queue.push(item) }

    /// Why the writer stopped, once it has.
    var failure: ArchiveError? { lock.lock(); defer { lock.unlock() }; return stopped }
    var snapshot: Counts { lock.lock(); defer { lock.unlock() }; return counts }

    /// Writes what is queued, then waits for the thread to end.
    private func finish() async -> Counts {
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
        let store = self.store, runID = self.runID
        let saver = SessionSaver<Void>(writer: store, organizationID: organizationID, keepingNewer: false, batchSize: Self.batchSize,
                                       onFailed: { entry, error in
            // One session the archive could not take: recorded, and the sync goes on.
            try? store.recordFailure(runID: runID, sessionID: entry.session.sessionID, projectID: entry.projectID, httpStatus: nil,
                                     message: "cannot archive it: \(error)", at: Timestamp.now())
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
        update { $0.saves = saver.counts }
    }

    private func write(_ item: Item, saver: SessionSaver<Void>) throws {
        if case let .session(session, project) = item {
            update { $0.retrieved += 1 }
            try saver.add(session, projectID: project, origin: ())
            update { $0.saves = saver.counts }
            return
        }
        try commit(saver)  // what follows a session sees it written
        let now = Timestamp.now()
        switch item {
        case .session: break
        case .gone(let id):
            if try store.markDeleted(sessionID: id, at: now) { update { $0.deleted += 1 } }
        case let .failure(id, project, status, message):
            try store.recordFailure(runID: runID, sessionID: id, projectID: project, httpStatus: status,
                                    message: message, at: now)
            update { $0.failed += 1 }
        case let .markMissingDeleted(project, listed):
            let marked = try store.markMissingDeleted(projectID: project, listed: listed, at: now)
            update { $0.deleted += marked }
        }
    }

    private func update(_ change: (inout Counts) -> Void) {
        lock.lock()
        change(&counts)
        lock.unlock()
    }
}
