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
        do { store = try ArchiveWriter(path: archivePath, externalCheckpoints: CommandLineConfig.loaded.backup.externalCheckpoints, onUpgrade: showProgress ? noteUpgrade(of: archivePath) : { _, _ in }) } catch {
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
            + "\(grouped(summary.deleted)) deleted, "
            + (summary.forgotten > 0 ? "\(grouped(summary.forgotten)) forgotten (skipped), " : "")
            + "\(grouped(summary.failed)) failed in \(String(format: "%.2f", summary.seconds)) s "
            + "(\(grouped(summary.listed)) listed, \(grouped(summary.retrieved)) retrieved, \(grouped(summary.requests)) requests)"
            + (summary.pruned > 0 ? "; retention pruned the content of \(grouped(summary.pruned)) sessions" : "")
    }

    static func json(_ summary: SyncSummary) -> String {
        JSONOutput.encode(summary)
    }
}
