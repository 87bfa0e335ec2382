import Foundation

/// The one writer of a sync: a thread of its own that takes what the
/// retrieves bring from a bounded queue and commits it, so that writing never
/// keeps the scheduler from keeping `concurrency` requests in flight.
final class SyncWriter: @unchecked Sendable {
    enum Item: Sendable {
        case session(NormalizedSession, project: String?)
        case gone(sessionID: String)
        case failure(sessionID: String, project: String?, status: Int?, message: String)
        /// After a complete listing of a project, once its sessions are written.
        case markMissingDeleted(project: String?, listed: [String])
    }

    struct Counts: Sendable {
        var retrieved = 0, new = 0, updated = 0, unchanged = 0, deleted = 0, failed = 0
    }

    private let store: ArchiveStore
    private let runID: Int64
    private let organizationID: String?
    private let queue: BoundedQueue<Item>
    private let lock = NSLock()
    private var counts = Counts()
    private var failure: String?
    private var finished: CheckedContinuation<Void, Never>?
    private var ended = false

    init(store: ArchiveStore, runID: Int64, organizationID: String?, capacity: Int) {
        self.store = store
        self.runID = runID
        self.organizationID = organizationID
        queue = BoundedQueue(capacity: capacity, wakeAfter: 1)
        let thread = Thread { [self] in work() }
        thread.name = "sync-writer"
        thread.start()
    }

    /// Queues an item; waits while the queue is full. False once the writer has failed.
    @discardableResult
    func submit(_ item: Item) -> Bool { queue.push(item) }

    /// Why the writer stopped, once it has.
    var failureMessage: String? { lock.lock(); defer { lock.unlock() }; return failure }
    var snapshot: Counts { lock.lock(); defer { lock.unlock() }; return counts }

    /// Writes what is queued, then ends the thread.
    func finish() async -> Counts {
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
        while let item = queue.pop() {
            do {
                try write(item)
            } catch {
                lock.lock()
                failure = "cannot write the archive \(store.path): \(error)"
                lock.unlock()
                queue.cancel()
                break
            }
        }
        lock.lock()
        ended = true
        let waiting = finished
        lock.unlock()
        waiting?.resume()
    }

    private func write(_ item: Item) throws {
        let now = Timestamp.now()
        switch item {
        case let .session(session, project):
            let outcome = try store.save(session, projectID: project, organizationID: organizationID, syncedAt: now)
            update {
                $0.retrieved += 1
                switch outcome {
                case .new: $0.new += 1
                case .unchanged: $0.unchanged += 1
                case .appended, .rewritten, .metadataChanged: $0.updated += 1
                case .olderThanArchived: break  // sync never asks to keep the newer
                }
            }
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
