import Foundation

/// At most `size` requests in flight, shared by the syncs of several sources:
/// a request waits for a free place, and places go to waiters in the order
/// they asked, so a source with many changed sessions cannot starve the others.
final class RequestPool: @unchecked Sendable {
    let size: Int
    private let lock = NSLock()
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var head = 0

    init(size: Int) {
        self.size = max(1, size)
        free = self.size
    }

    func acquire() async {
        await withCheckedContinuation { enqueue($0) }
    }

    /// Resumes at once when a place is free and no one waits before it.
    private func enqueue(_ continuation: CheckedContinuation<Void, Never>) {
        lock.lock()
        if free > 0 && head == waiting.count {
            free -= 1
            lock.unlock()
            continuation.resume()
            return
        }
        waiting.append(continuation)
        lock.unlock()
    }

    /// Requests waiting for a place (for tests).
    var waitingCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return waiting.count - head
    }

    func release() {
        lock.lock()
        guard head < waiting.count else {
            free += 1
            lock.unlock()
            return
        }
        let next = waiting[head]
        head += 1
        if head == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            head = 0
        }
        lock.unlock()
        next.resume()
    }
}
