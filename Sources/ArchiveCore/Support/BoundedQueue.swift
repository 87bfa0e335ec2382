import Foundation

/// A queue between one producer thread and one consumer that blocks the
/// producer when full and the consumer when empty.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Taken elements are set to nil at once: the array is compacted only now
    /// and then, and must not keep them (and their memory) alive till then.
    private var items: [Element?] = []
    private var head = 0
    private var finished = false
    private var cancelled = false
    private let capacity: Int

    private let wakeAfter: Int

    /// The consumer is woken for runs of `wakeAfter` elements (and by `finish`).
    init(capacity: Int, wakeAfter: Int = 32) {
        self.wakeAfter = max(1, wakeAfter)
        self.capacity = max(capacity, self.wakeAfter)
    }

    /// False once the consumer has gone away: the producer should stop.
    func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count - head >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        items.append(element)
        // The consumer is woken for a run of elements, not for each one: a
        // re-import pushes thousands of small "unchanged" items, and a wake-up
        // apiece cost more than the reading. `finish` wakes it for the rest.
        if items.count - head >= wakeAfter { condition.broadcast() }
        return true
    }

    /// The next element; nil when the producer has finished and all is taken.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !finished { condition.wait() }
        guard head < items.count else { return nil }
        let element = items[head]
        items[head] = nil
        head += 1
        if head > 4096 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return element
    }

    /// Nothing waits to be taken now (the producer may still add more).
    var isEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return head == items.count
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
