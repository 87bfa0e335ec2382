import Foundation
import LlamaCloudClient

/// A sync and what followed it, once for the run: retention, budgets, the backup.
public struct SyncRun: Sendable {
    /// Each source's outcome, in the order asked, failed ones too.
    public var outcomes: [SyncOutcome] = []
    /// Sessions whose content retention (`[retention] content_days`) pruned after the sync.
    public var pruned = 0
    /// Why retention could not run: the archive could not be written.
    public var retentionFailure: String?
    /// The budgets after the sync; `alerts` holds those with a threshold reached for the first time.
    public var budgets: [BudgetStatus] = []
    public var alerts: [BudgetStatus] = []
    /// The backup after the sync (`[backup] after_sync`), when it ran and worked.
    public var backup: BackupResult?
    /// What failed after a good sync (budgets, a notifier, the backup), one
    /// line each: the sync is kept, and its exit status is not changed by them.
    public var afterSyncProblems: [String] = []

    /// Whether every source failed whole.
    public var failedWhole: Bool { !outcomes.isEmpty && outcomes.allSatisfy { $0.failure != nil } }
}

extension Archive {
    /// Syncs `sources` in one run under the writers' lock (one writer, one
    /// pool of requests; a source that fails fails alone), then, once for
    /// the run and in this order: retention and the budgets' reckoning under
    /// the lock; after letting go of it, each `notify_command` (within its
    /// time limit; an alert it did not deliver is tried again next time) and
    /// the backup. Throws only when no source could run: the lock is held
    /// (`ArchiveLock.LockError.held`), or the archive cannot be opened.
    public func sync(_ sources: [SyncSource], onProgress: @escaping @Sendable (_ source: Int, SyncProgress) -> Void = { _, _ in })
        async throws -> SyncRun {
        var run = SyncRun()
        var toNotify: [BudgetStatus] = []
        try await write { writer in
            var engines: [SyncEngine] = []
            var outcomes: [SyncOutcome?] = []
            for (index, source) in sources.enumerated() {
                switch source.client {
                case .success(let client):
                    engines.append(SyncEngine(store: writer, client: client, options: source.options) { onProgress(index, $0) })
                    outcomes.append(nil)
                case .failure(let failure):
                    var summary = SyncSummary()
                    summary.status = .failed
                    summary.source = source.name
                    summary.message = failure.description
                    outcomes.append(SyncOutcome(name: source.name, summary: summary, failure: SyncError(failure.reason, summary: summary),
                                                listingFailure: nil))
                }
            }
            var ran = engines.isEmpty ? [] : try await SyncEngine.runTogether(engines, store: writer)[...]
            run.outcomes = outcomes.map { $0 ?? ran.removeFirst() }
            guard !run.failedWhole else { return }
            if let days = settings.contentDays {
                do { run.pruned = try applyRetention(days: days, writer: writer) } catch {
                    run.retentionFailure = "synced, but retention could not prune: \(error)"
                }
            }
            toNotify = reckonBudgets(into: &run, writer: writer)
        }
        guard !run.failedWhole else { return run }
        notify(toNotify, into: &run)
        if settings.backup.afterSync, let folder = settings.backup.dir {
            do { run.backup = try backUp(into: folder) } catch {
                run.afterSyncProblems.append("synced, but the backup after it failed: \(error)")
            }
        }
        return run
    }

    /// The backup after a sync, into the configured folder (never over a file of that name).
    private func backUp(into folder: String) throws -> BackupResult {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), !isFolder.boolValue {
            throw PrivateFiles.FileError(path: folder, reason: "the backup folder is a file")
        }
        return try read { try $0.backup(to: folder, keep: settings.backup.keep) }
    }

    /// Prunes the content of sessions last updated `days` or more ago; how many.
    private func applyRetention(days: Int, writer: ArchiveWriter) throws -> Int {
        var selection = SessionSelection()
        selection.updatedBefore = Timestamp.format(date: Date(timeIntervalSinceNow: -Double(days) * 86_400))
        selection.withContentOnly = true
        return try writer.prune(try writer.reader.sessions(selectedBy: selection), at: Timestamp.now()).sessions
    }

    /// The budgets after the sync, and their thresholds reached for the first
    /// time in their period: recorded now unless a `notify_command` is to
    /// deliver them (returned, to run after the lock is let go).
    private func reckonBudgets(into run: inout SyncRun, writer: ArchiveWriter) -> [BudgetStatus] {
        guard !settings.budgets.isEmpty, let pricing = settings.pricing else { return [] }
        do {
            run.budgets = try writer.reader.budgetStatuses(settings.budgets, pricing: pricing, zone: settings.timeZone)
            run.alerts = run.budgets.filter { !$0.newlyReached.isEmpty }
            for status in run.alerts where status.budget.notifyCommand == nil { try record(status, in: writer) }
            return run.alerts.filter { $0.budget.notifyCommand != nil }
        } catch {
            run.afterSyncProblems.append("synced, but the budgets could not be checked: \(error)")
            return []
        }
    }

    /// Runs each alert's `notify_command`, no lock held, within its time
    /// limit; records those delivered, under the lock again.
    private func notify(_ statuses: [BudgetStatus], into run: inout SyncRun) {
        var delivered: [BudgetStatus] = []
        for status in statuses {
            guard let command = status.budget.notifyCommand else { continue }
            let outcome = BoundedCommand.run(command, input: Array((status.json.serialized + "\n").utf8),
                                             seconds: status.budget.notifyTimeoutSeconds)
            if let failure = outcome.failure {
                run.afterSyncProblems.append("budget \(status.budget.name): notify_command \(failure); the next sync tries again")
            } else {
                delivered.append(status)
            }
        }
        guard !delivered.isEmpty else { return }
        do { try write { writer in try delivered.forEach { try record($0, in: writer) } } } catch {
            run.afterSyncProblems.append("synced and notified, but the alerts could not be recorded (\(error)); the next sync sends them again")
        }
    }

    private func record(_ status: BudgetStatus, in writer: ArchiveWriter) throws {
        try writer.recordBudgetAlerts(budget: status.budget.name, periodStart: status.periodStart, thresholds: status.newlyReached,
                                      spend: status.spend, limit: status.budget.limit, at: Timestamp.now())
    }
}
