import Foundation

/// An exclusive lock on an archive for writers that run long (sync, import),
/// held through `flock` on `<archive>.lock`: the kernel drops it when the
/// process dies, so a killed sync never leaves a stale lock.
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
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .unusable(path: path, reason: String(cString: strerror(errno))) }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK { throw .held(path: archivePath) }
            throw .unusable(path: path, reason: String(cString: strerror(code)))
        }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
