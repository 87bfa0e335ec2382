import Foundation

/// The writers' lock on an archive, held as an open file description lock
/// (`F_OFD_SETLK`) on `<archive>.lock`: the kernel drops it when the process
/// dies, so a killed sync never leaves a stale lock, and `isHeld` can ask
/// about it without ever taking it. The file names its holder (`archive
/// import (pid 4121) since 12:03:10`), so that one turned away can say who.
public final class ArchiveLock {
    private let descriptor: Int32
    public let path: String

    public enum LockError: Error, CustomStringConvertible {
        /// Another process holds it; `holder` is what its lock file says, if anything.
        case held(path: String, holder: String?)
        case unusable(path: String, reason: String)
        public var description: String {
            switch self {
            case let .held(path, holder): return "\(path) is held by \(holder ?? "another writer"); leaving it be"
            case let .unusable(path, reason): return "cannot lock \(path): \(reason)"
            }
        }
    }

    /// Takes the lock for `holder` (a command, say `archive sync`), or fails at once.
    public init(archivePath: String, holder: String = "archive") throws(LockError) {
        path = archivePath + ".lock"
        do { try ArchiveLocation.prepareFolder(of: archivePath) } catch {
            throw .unusable(path: path, reason: "\(error)")
        }
        // O_NOFOLLOW: a link planted at the lock's name is refused, never opened.
        descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link; refusing to follow it" : String(cString: strerror(errno))
            throw .unusable(path: path, reason: reason)
        }
        // A lock just let go can look held for a moment: a child this process
        // (or a test beside it) spawns shares the descriptor until its exec
        // closes it. A quarter of a second tells that from a writer at work.
        var request = Self.wholeFile(F_WRLCK)
        let deadline = Date().addingTimeInterval(0.25)
        while fcntl(descriptor, Self.setLock, &request) != 0 && (errno == EAGAIN || errno == EACCES) && Date() < deadline {
            request = Self.wholeFile(F_WRLCK)
            usleep(10_000)
        }
        if fcntl(descriptor, Self.setLock, &request) != 0 {
            let code = errno
            close(descriptor)
            if code == EAGAIN || code == EACCES { throw .held(path: archivePath, holder: Self.holder(of: path)) }
            throw .unusable(path: path, reason: String(cString: strerror(code)))
        }
        let since = Timestamp.format(date: Date()).dropFirst(11).prefix(8)
        let line = Array("\(holder) (pid \(getpid())) since \(since) UTC\n".utf8)
        if ftruncate(descriptor, 0) == 0 { _ = line.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) } }
    }

    /// What the lock file says of its holder: one printable line, or nil.
    private static func holder(of lockPath: String) -> String? {
        let descriptor = open(lockPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 200)
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let line = bytes[..<count].prefix { $0 != 10 }
        guard !line.isEmpty, line.allSatisfy({ (32..<127).contains($0) }) else { return nil }
        return String(decoding: line, as: UTF8.self)
    }

    deinit { close(descriptor) }  // closing the last descriptor releases the lock

    /// Whether a writer holds the lock now, found out without taking it (a
    /// sync that starts meanwhile is not turned away). No lock file: no writer.
    public static func isHeld(archivePath: String) -> Bool {
        let descriptor = open(archivePath + ".lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var probe = wholeFile(F_WRLCK)
        guard fcntl(descriptor, Self.getLock, &probe) == 0 else { return false }
        return probe.l_type != Int16(F_UNLCK)
    }

    #if os(Linux)
    // F_OFD_SETLK and F_OFD_GETLK: Glibc's module leaves them out (they need _GNU_SOURCE).
    private static let setLock: Int32 = 37
    private static let getLock: Int32 = 36
    #else
    private static let setLock = F_SETLK
    private static let getLock = F_GETLK
    #endif

    private static func wholeFile(_ type: Int32) -> flock {
        var request = flock()
        request.l_type = Int16(type)
        request.l_whence = Int16(SEEK_SET)
        request.l_start = 0
        request.l_len = 0
        request.l_pid = 0  // required by OFD locks
        return request
    }
}
