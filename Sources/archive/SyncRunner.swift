import ArgumentParser
import ArchiveCore
import Foundation
import LlamaCloudClient

/// Runs a sync under the archive lock, with a live progress line on a terminal.
/// Shared by `sync` and `demo`.
enum SyncRunner {
    /// Why a sync could not run or ended early: the one-line reason, the exit
    /// code, and the run as a summary (status `failed`) for `--json`.
    struct Failure: Error {
        let message: String
        let exitCode: Int32
        let summary: SyncSummary

        init(_ message: String, exitCode: Int32 = ExitStatus.fatal, summary: SyncSummary? = nil) {
            self.message = message
            self.exitCode = exitCode
            var failed = summary ?? SyncSummary()
            failed.status = .failed
            failed.message = message
            self.summary = failed
        }
    }

    static func run(archivePath: String, client: ChatAPIClient, options: SyncOptions, showProgress: Bool) async throws(Failure) -> SyncSummary {
        let lock: ArchiveLock
        do { lock = try ArchiveLock(archivePath: archivePath) } catch {
            if case .held = error { throw Failure(error.description, exitCode: ExitStatus.locked) }
            throw Failure(error.description)
        }
        defer { withExtendedLifetime(lock) {} }
        let store: ArchiveWriter
        // Quiet from cron (no progress line): the upgrade note is for a person watching.
        do { store = try ArchiveWriter(path: archivePath, onUpgrade: showProgress ? noteUpgrade(of: archivePath) : { _, _ in }) } catch {
            throw Failure("\(error)")
        }
        let progressLine = ProgressLine(enabled: showProgress)
        let engine = SyncEngine(store: store, client: client, options: options) { progressLine.update($0) }
        defer { progressLine.clear() }
        do { return try await store.closing { _ in try await engine.run() } } catch let error as SyncFatalError {
            throw Failure(ErrorWords.line(error), summary: error.summary)
        } catch {
            throw Failure("\(error)")
        }
    }

    /// `run`, with a failure as its one line on standard error and its exit code (for `demo`).
    static func runOrFail(archivePath: String, client: ChatAPIClient, options: SyncOptions, showProgress: Bool) async throws -> SyncSummary {
        do throws(Failure) {
            return try await run(archivePath: archivePath, client: client, options: options, showProgress: showProgress)
        } catch {
            throw fail(error.message, code: error.exitCode)
        }
    }

    static func line(_ summary: SyncSummary) -> String {
        "synced: \(grouped(summary.new)) new, \(grouped(summary.updated)) updated, \(grouped(summary.unchanged)) unchanged, "
            + "\(grouped(summary.deleted)) deleted, \(grouped(summary.failed)) failed in \(String(format: "%.2f", summary.seconds)) s "
            + "(\(grouped(summary.listed)) listed, \(grouped(summary.retrieved)) retrieved, \(grouped(summary.requests)) requests)"
    }

    static func json(_ summary: SyncSummary) -> String {
        JSONOutput.encode(summary)
    }
}

/// The writers' lock on an archive; exit 75 when another holds it.
func lockArchive(_ path: String) throws -> ArchiveLock {
    do { return try ArchiveLock(archivePath: path) } catch {
        if case .held = error { throw fail(error, code: ExitStatus.locked) }
        throw fail(error, code: ExitStatus.fatal)
    }
}

/// One line on standard error, redrawn at most ten times a second.
final class ProgressLine {
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: SyncProgress) {
        let rate = progress.elapsed > 0 ? Double(progress.done) / progress.elapsed : 0
        let listing = progress.listingFinished ? "listed \(progress.listed)" : "listing… \(progress.listed) (\(progress.pagesListed) pages)"
        draw("\(listing) · fetched \(progress.done)/\(progress.queued) · \(String(format: "%.0f", rate))/s")
    }

    /// `archive import`: records so far, MB/s, and the time left from the size of the files.
    func update(_ progress: Importer.Progress) {
        let megabytes = Double(progress.bytesRead) / 1_000_000
        var text = "importing… \(grouped(progress.records)) records · \(String(format: "%.1f", progress.elapsed > 0 ? megabytes / progress.elapsed : 0)) MB/s"
        if let total = progress.totalBytes, total > 0, progress.bytesRead > 0, progress.elapsed > 0.5 {
            let left = progress.elapsed * Double(total - min(total, progress.bytesRead)) / Double(progress.bytesRead)
            text += " · \(Int(Double(progress.bytesRead) * 100 / Double(total)))% · ETA \(Int(left.rounded())) s"
        }
        draw(text)
    }

    /// A line of its own, redrawn at most ten times a second.
    func draw(_ text: String, force: Bool = false) {
        guard enabled, force || Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = Date()
        Terminal.standardError.write("\r\u{1B}[2K" + String(text.prefix(max(20, Terminal.standardError.width - 1))))
        drawn = true
    }

    func clear() {
        if drawn { Terminal.standardError.write("\r\u{1B}[2K") }
    }
}
