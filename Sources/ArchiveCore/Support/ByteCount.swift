import Foundation

/// A count one thread adds to and another reads.
final class ByteCount: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ count: Int) { lock.lock(); total += count; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return total }
}
