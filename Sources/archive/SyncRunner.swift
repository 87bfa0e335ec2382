import ArgumentParser
import ArchiveCore
import Foundation
import LlamaCloudClient

/// Runs a sync under the archive lock, with a live progress line on a terminal.
/// Shared by `sync` and `demo`.
enum SyncRunner {
    static func run(archivePath: String, client: ChatAPIClient, options: SyncOptions, showProgress: Bool) async throws -> SyncSummary {
        let lock = try lockArchive(archivePath)
        defer { withExtendedLifetime(lock) {} }
        let store: ArchiveStore
        // Quiet from cron (no progress line): the upgrade note is for a person watching.
        do { store = try ArchiveStore(path: archivePath, onUpgrade: showProgress ? noteUpgrade(of: archivePath) : { _, _ in }) } catch {
            throw fail("\(error)", code: ExitStatus.fatal)
        }
        let progressLine = ProgressLine(enabled: showProgress)
        let engine = SyncEngine(store: store, client: client, options: options) { progressLine.update($0) }
        defer { progressLine.clear() }
        return try await engine.run()
    }

    /// `run`, with a fatal error as the one-line failure and exit 1 (for `demo`).
    static func runOrFail(archivePath: String, client: ChatAPIClient, options: SyncOptions, showProgress: Bool) async throws -> SyncSummary {
        do { return try await run(archivePath: archivePath, client: client, options: options, showProgress: showProgress) } catch let error as SyncFatalError {
            throw fail(error.message, code: ExitStatus.fatal)
        }
    }

    static func line(_ summary: SyncSummary) -> String {
        "synced: \(summary.new) new, \(summary.updated) updated, \(summary.unchanged) unchanged, "
            + "\(summary.deleted) deleted, \(summary.failed) failed in \(String(format: "%.2f", summary.seconds)) s "
            + "(\(summary.listed) listed, \(summary.retrieved) retrieved, \(summary.requests) requests)"
    }

    static func json(_ summary: SyncSummary) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(summary)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// The writers' lock on an archive; exit 75 when another holds it.
func lockArchive(_ path: String) throws -> ArchiveLock {
    do { return try ArchiveLock(archivePath: path) } catch {
        if case .held = error { throw fail(error.description, code: ExitStatus.locked) }
        throw fail(error.description, code: ExitStatus.fatal)
    }
}

/// One line on standard error, redrawn at most ten times a second.
final class ProgressLine {
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: SyncProgress) {
        guard enabled, Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = Date()
        let rate = progress.elapsed > 0 ? Double(progress.done) / progress.elapsed : 0
        let listing = progress.listingFinished ? "listed \(progress.listed)" : "listing… \(progress.listed) (\(progress.pagesListed) pages)"
        let text = "\(listing) · fetched \(progress.done)/\(progress.queued) · \(String(format: "%.0f", rate))/s"
        Terminal.standardError.write("\r\u{1B}[2K" + String(text.prefix(max(20, Terminal.standardError.width - 1))))
        drawn = true
    }

    func clear() {
        if drawn { Terminal.standardError.write("\r\u{1B}[2K") }
    }
}
