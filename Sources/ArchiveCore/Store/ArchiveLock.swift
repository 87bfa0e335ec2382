import Foundation

/// An exclusive lock on an archive for writers that run long (sync, import),
/// held as an open file description lock (`F_OFD_SETLK`) on `<archive>.lock`:
/// the kernel drops it when the process dies, so a killed sync never leaves a
/// stale lock, and `isHeld` can ask about it without ever taking it.
public final class ArchiveLock {
    private let descriptor: Int32
    public let path: String

    public enum Failure: Error, CustomStringConvertible {
        case held(path: String)
        case unusable(path: String, reason: String)
        public var description: String {
            switch self {
            case .held(let path): return "another sync is running on \(path); leaving it be"
            case let .unusable(path, reason): return "cannot lock \(path): \(reason)"
            }
        }
    }

    public init(archivePath: String) throws(Failure) {
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
        var request = Self.wholeFile(F_WRLCK)
        if fcntl(descriptor, Self.setLock, &request) != 0 {
            let code = errno
            close(descriptor)
            if code == EAGAIN || code == EACCES { throw .held(path: archivePath) }
            throw .unusable(path: path, reason: String(cString: strerror(code)))
        }
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
