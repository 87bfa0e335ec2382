import ArchiveCore
import Foundation

/// A sync on the terminal: a live progress line while it runs, then its
/// lines or one JSON object, and its exit status. Shared by `sync` and `demo`.
enum SyncRunner {
    /// Runs `sources` through `archive.sync`, with a progress line on a terminal.
    static func run(_ archive: Archive, _ sources: [SyncSource], showProgress: Bool) async throws -> SyncRun {
        let progressLine = ProgressLine(enabled: showProgress)
        let combined = CombinedProgress(count: sources.count) { progressLine.update($0) }
        defer { progressLine.clear() }
        return try await archive.sync(sources) { combined.update($0, $1) }
    }

    static func line(_ summary: SyncSummary, pruned: Int = 0) -> String {
        "synced: \(grouped(summary.new)) new, \(grouped(summary.updated)) updated, \(grouped(summary.unchanged)) unchanged, "
            + "\(grouped(summary.deleted)) deleted, "
            + (summary.forgotten > 0 ? "\(grouped(summary.forgotten)) forgotten (skipped), " : "")
            + "\(grouped(summary.failed)) failed in \(String(format: "%.2f", summary.seconds)) s "
            + "(\(grouped(summary.listed)) listed, \(grouped(summary.retrieved)) retrieved, \(grouped(summary.requests)) requests)"
            + (pruned > 0 ? "; retention pruned the content of \(grouped(pruned)) sessions" : "")
    }
}

/// A sync as `--json` prints it, encoded once: one source's summary as the
/// object itself (the flags' `default`), several as `{"sources": [...]}`;
/// `pruned` and `after_sync_problems` for the run beside them.
struct SyncJSON: Encodable {
    let summaries: [SyncSummary]
    let single: Bool
    let pruned: Int
    let problems: [String]

    init(_ run: SyncRun, single: Bool) {
        summaries = run.outcomes.map(\.summary)
        self.single = single
        pruned = run.pruned
        problems = run.afterSyncProblems + (run.retentionFailure.map { [$0] } ?? [])
    }

    /// Every source failed before it ran: `message` says why.
    init(failed names: [String], message: String, single: Bool) {
        summaries = names.map { name in
            var summary = SyncSummary()
            summary.status = .failed
            summary.source = name
            summary.message = message
            return summary
        }
        self.single = single
        pruned = 0
        problems = []
    }

    private enum Keys: String, CodingKey { case sources, pruned, afterSyncProblems }

    func encode(to encoder: any Encoder) throws {
        if single, let summary = summaries.first { try summary.encode(to: encoder) }
        var container = encoder.container(keyedBy: Keys.self)
        if !single { try container.encode(summaries, forKey: .sources) }
        try container.encode(pruned, forKey: .pruned)
        if !problems.isEmpty { try container.encode(problems, forKey: .afterSyncProblems) }
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
