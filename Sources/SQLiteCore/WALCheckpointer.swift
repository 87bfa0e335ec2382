import Foundation

/// Copies a WAL database's log back into the database file on a thread and
/// connection of its own, so that a bulk writer does not stop to do it. The
/// writer asks after each commit; checkpoints are passive (they never wait for
/// the writer, nor make it wait) and best effort: one that cannot run is left
/// to the next, or to the writer's own automatic checkpoint.
public final class WALCheckpointer: @unchecked Sendable {
    private let condition = NSCondition()
    private var requested = false
    private var finishing = false
    private var finished = false

    /// Starts the thread; its connection opens `path`, which must exist.
    public init(path: String) {
        let thread = Thread { [self] in run(path: path) }
        thread.start()
    }

    /// Asks for a checkpoint soon; returns at once.
    public func request() {
        condition.lock()
        requested = true
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread and closes its connection, so that the writer's
    /// connection can be the last one and clean up the log when it closes.
    public func finish() {
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
