import Foundation

/// Temporary copies beside the archive (`.ARCHIVE.merging-XXXXXX`, a
/// restore's staged copy) that must not outlive the command: removed when it
/// ends, when it is stopped by SIGINT or SIGTERM, and, after a `kill -9`, by
/// the next command of the same kind (which holds the writers' lock, so no
/// other one is using them).
public enum TemporaryFiles {
    /// Paths a signal removes: a fixed table of C strings, so that the
    /// handler only reads memory and calls `unlink`, as a signal handler may.
    private static let capacity = 32
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        table.initialize(repeating: nil, count: capacity)
        return table
    }()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var installed = false

    /// Removes `paths` if SIGINT or SIGTERM stops the process before `forget(_:)`.
    static func removeOnSignal(_ paths: [String]) {
        lock.lock()
        defer { lock.unlock() }
        for path in paths {
            guard let free = (0..<capacity).first(where: { slots[$0] == nil }) else { break }
            slots[free] = strdup(path)
        }
        guard !installed else { return }
        installed = true
        // A parent may have left them blocked (a test runner, a supervisor): stopping must still work.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        sigaddset(&unblocked, SIGINT)
        sigaddset(&unblocked, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        for number in [SIGINT, SIGTERM] {
            signal(number) { number in
                for index in 0..<TemporaryFiles.capacity {
                    if let path = TemporaryFiles.slots[index] { unlink(path) }
                }
                // Then the process ends by the signal, as it would have.
                signal(number, SIG_DFL)
                raise(number)
            }
        }
    }

    /// `paths` are gone or kept on purpose: a signal no longer removes them.
    static func forget(_ paths: [String]) {
        lock.lock()
        defer { lock.unlock() }
        for index in 0..<capacity {
            guard let path = slots[index], paths.contains(String(cString: path)) else { continue }
            slots[index] = nil
            free(path)
        }
    }

    /// Runs `body` with a new file beside the archive, `.ARCHIVE.TAG-XXXXXX`
    /// (0600), removed with its journal, WAL, shared memory and lock files
    /// when `body` ends, when SIGINT or SIGTERM stops the process, and, after
    /// a `kill -9`, by the next call of the same tag. Only for a caller
    /// holding the writers' lock.
    public static func withCopy<T>(beside archivePath: String, tag: String, _ body: (String) throws -> T) throws -> T {
        removeAbandoned(beside: archivePath, tag: tag)
        let copy = try PrivateFiles.makeFreshFile(beside: archivePath, tag: tag)
        let files = ["", "-journal", "-wal", "-shm", ".lock"].map { copy + $0 }
        removeOnSignal(files)
        defer {
            for file in files { unlink(file) }
            forget(files)
        }
        return try body(copy)
    }

    /// Removes what a killed command left beside `archivePath` under `tag`
    /// (`PrivateFiles.makeFreshFile(beside:tag:)`'s names, with their WAL,
    /// shared memory and lock files). Only for a caller holding the writers' lock.
    static func removeAbandoned(beside archivePath: String, tag: String) {
        let folder = (archivePath as NSString).deletingLastPathComponent
        let prefix = ".\((archivePath as NSString).lastPathComponent).\(tag)-"
        let directory = folder.isEmpty ? "." : folder
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(prefix) {
            unlink((directory as NSString).appendingPathComponent(entry))
        }
    }
}
