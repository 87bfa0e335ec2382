@_spi(Testing) @testable import ArchiveCore
import Foundation
import Testing

/// The pool the sources of one sync share: never more than its size in
/// flight, and places handed out in the order they were asked for.
@Suite struct RequestPoolTests {
    final class Order: @unchecked Sendable {
        private let lock = NSLock()
        private var names: [String] = []
        func add(_ name: String) { lock.lock(); names.append(name); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return names }
    }

    @Test func placesGoToWaitersInTheOrderTheyAsked() async throws {
        let pool = RequestPool(size: 2)
        await pool.acquire()
        await pool.acquire()
        let order = Order()
        var tasks: [Task<Void, Never>] = []
        // Sources asking in turn: eu, na, eu, na, ...; each waits until the one before is queued.
        for (index, name) in ["eu-1", "na-1", "eu-2", "na-2", "eu-3"].enumerated() {
            tasks.append(Task {
                await pool.acquire()
                order.add(name)
            })
            while pool.waitingCount < index + 1 { await Task.yield() }
        }
        #expect(order.all.isEmpty)
        for expected in 1...5 {
            pool.release()
            while order.all.count < expected { await Task.yield() }
        }
        for task in tasks { await task.value }
        #expect(order.all == ["eu-1", "na-1", "eu-2", "na-2", "eu-3"])
        // Two places are still taken (the first two and then the last): a new request waits.
        #expect(pool.waitingCount == 0)
        let late = Task { await pool.acquire(); order.add("late") }
        while pool.waitingCount < 1 { await Task.yield() }
        pool.release()
        await late.value
        #expect(order.all.last == "late")
    }
}
