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

    /// One source's sync (the flags' `default`, or the demo's).
    static func run(archivePath: String, client: ChatAPIClient, options: SyncOptions, showProgress: Bool) async throws(Failure) -> SyncSummary {
        let outcome = try await run(archivePath: archivePath, sources: [Source(client: client, options: options)], showProgress: showProgress)[0]
        if let failure = outcome.failure { throw Failure(ErrorWords.line(failure), summary: failure.summary) }
        return outcome.summary
    }

    /// One source of a run: its client and options (`options.sourceName` names it).
    struct Source {
        let client: ChatAPIClient
        let options: SyncOptions
    }

    /// Syncs several sources in one run under the lock: one writer and one
    /// pool of requests shared between them. A source that fails fails
    /// alone: its outcome carries why.
    static func run(archivePath: String, sources: [Source], showProgress: Bool) async throws(Failure) -> [SyncEngine.Outcome] {
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
        let combined = CombinedProgress(count: sources.count) { progressLine.update($0) }
        let engines = sources.enumerated().map { index, source in
            SyncEngine(store: store, client: source.client, options: source.options) { combined.update(index, $0) }
        }
        defer { progressLine.clear() }
        do { return try await store.closing { _ in try await SyncEngine.runTogether(engines, store: store) } } catch let error as SyncFatalError {
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

/// The progress of several sources' syncs as one line: their sums.
final class CombinedProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [SyncProgress]
    private let onUpdate: (SyncProgress) -> Void

    init(count: Int, onUpdate: @escaping (SyncProgress) -> Void) {
        parts = Array(repeating: SyncProgress(), count: count)
        self.onUpdate = onUpdate
    }

    func update(_ index: Int, _ progress: SyncProgress) {
        lock.lock()
        parts[index] = progress
        var sum = SyncProgress()
        for part in parts {
            sum.pagesListed += part.pagesListed
            sum.listed += part.listed
            sum.queued += part.queued
            sum.done += part.done
            sum.elapsed = max(sum.elapsed, part.elapsed)
        }
        sum.listingFinished = parts.allSatisfy(\.listingFinished)
        onUpdate(sum)
        lock.unlock()
    }
}
