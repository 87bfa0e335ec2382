import Foundation

/// Copies a WAL database's log back into the database file on a thread and
/// connection of its own, so that a bulk writer does not stop to do it. The
/// writer asks after each commit; checkpoints are passive (they never wait for
/// the writer, nor make it wait) and best effort: one that cannot run is left
/// to the next, or to the writer's own automatic checkpoint.
///
/// Its thread lives for the scope of `running(path:_:)` only: it cannot be
/// left running (and its connection open) by a caller that forgets to stop it.
public final class WALCheckpointer: @unchecked Sendable {
    private let condition = NSCondition()
    private var requested = false
    private var finishing = false
    private var finished = false

    /// Runs `body` with a checkpointer of `path` (which must exist) beside it;
    /// `body` calls the function it is given to ask for a checkpoint soon
    /// (it returns at once). The thread and its connection end before this returns.
    /// With `enabled` false (checkpoints are someone else's), `body` runs alone.
    public static func running<T>(path: String, enabled: Bool = true, _ body: (_ requestCheckpoint: @escaping () -> Void) throws -> T) rethrows -> T {
        guard enabled else { return try body {} }
        let checkpointer = WALCheckpointer()
        let thread = Thread { checkpointer.run(path: path) }
        thread.start()
        defer { checkpointer.finish() }
        return try body { checkpointer.request() }
    }

    private init() {}

    private func request() {
        condition.lock()
        requested = true
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread and closes its connection, so that the writer's
    /// connection can be the last one and clean up the log when it closes.
    private func finish() {
        condition.lock()
        finishing = true
        condition.signal()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run(path: String) {
        do {
            let database = try Database(path: path, mode: .readWrite)
            while waitForRequest() {
                try? database.execute("PRAGMA wal_checkpoint(PASSIVE)")
            }
        } catch {
            while waitForRequest() {}  // no connection: the writer's automatic checkpoints remain
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// True for a request (one made before `finish` is still served), false once finishing.
    private func waitForRequest() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !requested && !finishing { condition.wait() }
        defer { requested = false }
        return requested
    }
}
