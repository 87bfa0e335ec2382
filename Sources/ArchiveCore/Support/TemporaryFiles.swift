import Dispatch
import Foundation

/// Temporary copies beside the archive (`.ARCHIVE.merging-XXXXXX`, a
/// restore's staged copy) that must not outlive the command: removed when it
/// ends, when it is stopped by SIGINT or SIGTERM, and, after a `kill -9`, by
/// the next command of the same kind (which holds the writers' lock, so no
/// other one is using them).
public enum TemporaryFiles {
    private final class Registry: @unchecked Sendable {
        let lock = NSLock()
        var paths: Set<String> = []
        var sources: [any DispatchSourceSignal] = []
    }

    private static let registry = Registry()

    /// Removes `paths` if SIGINT or SIGTERM stops the process before `forget(_:)`.
    public static func removeOnSignal(_ paths: [String]) {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        registry.paths.formUnion(paths)
        guard registry.sources.isEmpty else { return }
        for number in [SIGINT, SIGTERM] {
            // The signal is handled on a queue, not in a signal handler, so the
            // removal may use any call; the process then ends by the signal as before.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                registry.lock.lock()
                for path in registry.paths { unlink(path) }
                registry.lock.unlock()
                signal(number, SIG_DFL)
                raise(number)
            }
            source.resume()
            registry.sources.append(source)
        }
    }

    /// `paths` are gone or kept on purpose: a signal no longer removes them.
    public static func forget(_ paths: [String]) {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        registry.paths.subtract(paths)
    }

    /// Removes what a killed command left beside `archivePath` under `tag`
    /// (`PrivateFiles.makeFreshFile(beside:tag:)`'s names, with their WAL,
    /// shared memory and lock files). Only for a caller holding the writers' lock.
    public static func removeAbandoned(beside archivePath: String, tag: String) {
        let folder = (archivePath as NSString).deletingLastPathComponent
        let prefix = ".\((archivePath as NSString).lastPathComponent).\(tag)-"
        let directory = folder.isEmpty ? "." : folder
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(prefix) {
            unlink((directory as NSString).appendingPathComponent(entry))
        }
    }
}
