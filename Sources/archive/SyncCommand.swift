import ArgumentParser
import ArchiveCore
import Foundation
import LlamaCloudClient
import LosslessJSON

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Fetch new and changed sessions from the chat API into the archive.",
        discussion: helpText("""
            The key comes from LLAMA_CLOUD_API_KEY (then LLAMA_PARSE_API_KEY) or --api-key-file. \
            Exit codes: 0 done; 1 fatal; 2 some sessions failed (see `archive status`); 3 with --fail-on-budget, a budget is over; \
            75 another command holds the archive (the message names it, its pid and since when).
            """, examples:
            "archive sync --api-key-file ~/.config/llamacloud-archive/key",
            "archive sync --quiet --fail-on-budget   # from cron: prints nothing unless something failed"))

    @OptionGroup var location: ArchiveLocationOptions

    @Option(help: "API base URL (default: $LLAMA_CLOUD_BASE_URL, else the config file's, else \(ChatAPIClient.defaultBaseURL)).")
    var baseURL: String?

    @Option(name: .customLong("project-id"), help: "A project to sync; repeat for several (default: the config file's, else the key's default project).")
    var projectIDs: [String] = []

    @Option(name: .customLong("organization-id"), help: "The organization to pass to the API.")
    var organizationID: String?

    @Option(help: "Read the API key from this file instead of the environment.")
    var apiKeyFile: String?

    @Option(help: "Sessions per list page (1-1000; default: the largest the server accepts, found once and remembered).")
    var pageSize: Int?

    @Option(help: "Sessions retrieved at once.")
    var concurrency = 8

    @Option(help: "Retries of a failed request (the SDK's rules).")
    var maxRetries = 5

    @Option(help: "Seconds one request may take in all, connecting and reading included.")
    var timeout: Double = 60

    @Option(name: .customLong("max-response-mb"), help: "Refuse a response larger than this many MB.")
    var maxResponseMB = 256

    @Flag(help: "Retrieve every session, changed or not.")
    var full = false

    @Flag(name: [.short, .long], help: "Print nothing on success.")
    var quiet = false

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    @Flag(help: "Exit 3 when a budget of the config file is over its limit after the sync.")
    var failOnBudget = false

    @Option(name: .customLong("source"), help: "A [[sources]] entry of the config file to sync; repeat for several (default: every one).")
    var sourceNames: [String] = []

    @Option(help: "Write the run's and the archive's Prometheus metrics to this file, for node_exporter's textfile collector (default: the config file's [metrics] textfile).")
    var metricsFile: String?

    func validate() throws {
        if let pageSize, !(1...1000).contains(pageSize) { throw ValidationError("--page-size must be between 1 and 1000") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 64") }
        guard (0...20).contains(maxRetries) else { throw ValidationError("--max-retries must be between 0 and 20") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard (1...100_000).contains(maxResponseMB) else { throw ValidationError("--max-response-mb must be between 1 and 100000") }
        guard !(quiet && json) else { throw ValidationError("--quiet and --json exclude each other") }
    }

    /// Flags that make the run the one source `default`, whatever the config file's `[[sources]]`.
    private var namesOneSource: Bool { baseURL != nil || apiKeyFile != nil || !projectIDs.isEmpty || organizationID != nil }

    func run() async throws {
        let showProgress = !quiet && !json && Terminal.standardError.isInteractive
        // Quiet from cron (no progress line): the upgrade note is for a person watching.
        let archive = location.archive(noteUpgrade: showProgress)
        let settings = archive.settings
        let single = settings.sources.isEmpty || namesOneSource
        let chosen = single ? [try defaultSource(settings)] : try chosenSources(settings.sources)
        var request = SyncRequest()
        request.pageSize = pageSize
        request.concurrency = concurrency
        request.maxRetries = maxRetries
        request.timeout = timeout
        request.maxResponseBytes = maxResponseMB * 1_000_000
        request.full = full
        let sources = chosen.map { SyncSource($0, request: request, redactor: settings.redactor, defaultBaseURL: ChatAPIClient.defaultBaseURL) }
        let run: SyncRun
        do { run = try await SyncRunner.run(archive, sources, showProgress: showProgress) } catch {
            let kind = error is ArchiveLock.LockError ? "fatal_locked" : error is ArchiveError ? "fatal_archive" : "fatal_other"
            writeMetrics(archive, chosen.map { SyncMetrics.Outcome(source: $0.name, summary: nil, failureKind: kind) })
            let failure = fail(error, code: ExitStatus.fatal)
            if json { Terminal.standardOutput.writeLine(JSONOutput.encode(SyncJSON(failed: chosen.map(\.name), message: "\(error)", single: single))) }
            throw failure
        }
        writeMetrics(archive, run.outcomes.map { outcome in
            SyncMetrics.Outcome(source: outcome.name, summary: outcome.summary, failureKind: outcome.failure?.kind)
        })
        if json { Terminal.standardOutput.writeLine(JSONOutput.encode(SyncJSON(run, single: single))) }
        let failures = run.outcomes.compactMap { outcome in
            (outcome.failure.map(ErrorWords.line) ?? outcome.listingFailure).map { (name: outcome.name, cause: $0) }
        }
        if single, let failure = failures.first, run.failedWhole { throw fail(failure.cause, code: ExitStatus.fatal) }
        if !json { report(run, single: single) }
        for failure in failures where !single {
            Terminal.standardError.writeLine("archive: source \(failure.name.oneLineSafe) failed: \(failure.cause.oneLineSafe)")
        }
        if run.failedWhole { throw ExitError.exit(ExitStatus.fatal) }
        try afterSync(run, archive: archive, partial: !single && !failures.isEmpty ? "\(failures.count) of \(chosen.count) sources failed" : nil)
    }

    /// The metrics of the run, when a file is named for them; a failure to
    /// write them is said on standard error and changes nothing else.
    private func writeMetrics(_ archive: Archive, _ outcomes: [SyncMetrics.Outcome]) {
        guard let path = metricsFile ?? archive.settings.metricsTextfile else { return }
        do {
            try SyncMetrics(maxProjects: archive.settings.metricsMaxProjects).write(to: path, outcomes: outcomes, archive: archive)
        } catch {
            Terminal.standardError.writeLine("archive: the metrics could not be written to \(path.oneLineSafe): \("\(error)".oneLineSafe)")
        }
    }

    /// The flags' source, `default`: flags, else the environment, else `[sync]`.
    private func defaultSource(_ settings: ArchiveConfig) throws -> ArchiveConfig.SourceSettings {
        if !sourceNames.isEmpty {
            throw fail(settings.sources.isEmpty ? "--source names a [[sources]] entry of the config file, and it has none"
                                                : "--source syncs the config file's [[sources]]; it does not go with --base-url, --api-key-file, --project-id or --organization-id",
                       code: ExitStatus.usage)
        }
        let source = settings.defaultSource(baseURL: baseURL, keyFile: apiKeyFile, projects: projectIDs, organizationID: organizationID,
                                            defaultBaseURL: ChatAPIClient.defaultBaseURL)
        let base = source.baseURL ?? ChatAPIClient.defaultBaseURL
        guard ArchiveConfig.isBaseURL(base) else { throw fail("invalid base URL \(base)", code: ExitStatus.usage) }
        return source
    }

    /// The config file's `[[sources]]` that `--source` names (every one by default).
    private func chosenSources(_ configured: [ArchiveConfig.SourceSettings]) throws -> [ArchiveConfig.SourceSettings] {
        for name in sourceNames where !configured.contains(where: { $0.name.sameBytes(as: name) }) {
            throw fail("no source \(name.oneLineSafe) in the config file (it has \(configured.map(\.name).joined(separator: ", ")))",
                       code: ExitStatus.usage)
        }
        return sourceNames.isEmpty ? configured : configured.filter { source in sourceNames.contains { $0.sameBytes(as: source.name) } }
    }

    /// A line per source that ran (quiet: only those not ok, on standard
    /// error); the flags' one source without its name.
    private func report(_ run: SyncRun, single: Bool) {
        for outcome in run.outcomes where outcome.failure == nil && (!quiet || outcome.summary.status != .ok) {
            let line = (single ? "" : "\(outcome.name.oneLineSafe): ") + SyncRunner.line(outcome.summary, pruned: single ? run.pruned : 0)
            if quiet { Terminal.standardError.writeLine(line) } else { Terminal.standardOutput.writeLine(line) }
        }
        if !single && run.pruned > 0 && !quiet {
            Terminal.standardOutput.writeLine("retention pruned the content of \(grouped(run.pruned)) sessions")
        }
    }

    /// What followed the sync, in words: budget alerts, the backup, what failed
    /// after it (on standard error; a good sync stays good); then exit 2 for
    /// `partial`, 3 for a budget over.
    private func afterSync(_ run: SyncRun, archive: Archive, partial: String?) throws {
        let zone = archive.settings.timeZone
        for status in run.alerts {
            Terminal.standardError.writeLine("archive: budget " + BudgetCommand.line(status, zone: zone)
                                             + "; reached \(status.newlyReached.map(BudgetCommand.percent).joined(separator: ", "))")
        }
        if let backup = run.backup, !quiet && !json { BackupCommand.report(backup, to: Terminal.standardOutput) }
        for problem in run.afterSyncProblems { Terminal.standardError.writeLine("archive: \(problem.oneLineSafe)") }
        if let retention = run.retentionFailure {
            throw fail(retention, code: ExitStatus.fatal)
        }
        let failedSessions = run.outcomes.reduce(0) { $0 + $1.summary.failed }
        if let partial = partial ?? (failedSessions > 0 ? "\(failedSessions) failed" : nil) {
            Terminal.standardError.writeLine("archive: \(partial); details: archive status --db \(archive.path)")
            throw ExitError.exit(ExitStatus.partial)
        }
        if failOnBudget, let over = run.budgets.first(where: \.isOver) {
            Terminal.standardError.writeLine("archive: budget \(over.budget.name.oneLineSafe) is over its limit")
            throw ExitError.exit(ExitStatus.overBudget)
        }
    }
}
