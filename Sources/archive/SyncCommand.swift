import ArgumentParser
import ArchiveCore
import Foundation
import LlamaCloudClient
import LosslessJSON

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Fetch new and changed sessions from the chat API into the archive.",
        discussion: """
            The key comes from LLAMA_CLOUD_API_KEY (then LLAMA_PARSE_API_KEY) or --api-key-file. \
            Exit codes: 0 done; 1 fatal; 2 some sessions failed (see `archive status`); 3 with --fail-on-budget, a budget is over; \
            75 another sync is running.
            """)

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

    func validate() throws {
        if let pageSize, !(1...1000).contains(pageSize) { throw ValidationError("--page-size must be between 1 and 1000") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 64") }
        guard (0...20).contains(maxRetries) else { throw ValidationError("--max-retries must be between 0 and 20") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard (1...100_000).contains(maxResponseMB) else { throw ValidationError("--max-response-mb must be between 1 and 100000") }
        guard !(quiet && json) else { throw ValidationError("--quiet and --json exclude each other") }
    }

    /// Flags that make the run one unnamed source, whatever the config file's `[[sources]]`.
    private var namesOneSource: Bool { baseURL != nil || apiKeyFile != nil || !projectIDs.isEmpty || organizationID != nil }

    func run() async throws {
        let configured = CommandLineConfig.loaded.sources
        if !configured.isEmpty && !namesOneSource { return try await runSources(configured) }
        if !sourceNames.isEmpty {
            throw fail(configured.isEmpty ? "--source names a [[sources]] entry of the config file, and it has none"
                                          : "--source syncs the config file's [[sources]]; it does not go with --base-url, --api-key-file, --project-id or --organization-id",
                       code: ExitStatus.usage)
        }
        let environment = ProcessInfo.processInfo.environment
        let key: APIKeySource.Key
        do { key = try APIKeySource.resolve(file: apiKeyFile, environment: environment) } catch {
            throw fail(error, code: ExitStatus.fatal)
        }
        let saved = CommandLineConfig.loaded.sync
        let base = baseURL ?? environment["LLAMA_CLOUD_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? saved.baseURL
            ?? ChatAPIClient.defaultBaseURL
        let projectIDs = projectIDs.isEmpty ? saved.projects : projectIDs
        let organizationID = organizationID ?? saved.organizationID
        guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw fail("invalid base URL \(base)", code: ExitStatus.usage)
        }
        var options = SyncOptions()
        options.projects = projectIDs.isEmpty ? [nil] : projectIDs.map { $0 }
        options.organizationID = organizationID
        options.pageSize = pageSize
        options.concurrency = concurrency
        options.full = full
        options.redactor = CommandLineConfig.loaded.redactor
        options.contentRetentionDays = CommandLineConfig.loaded.contentDays
        let client = makeClient(url, key: key, organizationID: organizationID)
        let summary: SyncSummary
        do throws(SyncRunner.Failure) {
            summary = try await SyncRunner.run(archivePath: location.path, client: client, options: options,
                                               showProgress: !quiet && !json && Terminal.standardError.isInteractive)
        } catch {
            if json { Terminal.standardOutput.writeLine(SyncRunner.json(error.summary)) }
            throw fail(error.message, code: error.exitCode)
        }
        if json {
            Terminal.standardOutput.writeLine(SyncRunner.json(summary))
        } else if !quiet || summary.status != .ok {
            let line = SyncRunner.line(summary)
            if quiet { Terminal.standardError.writeLine(line) } else { Terminal.standardOutput.writeLine(line) }
        }
        try afterSync(partial: summary.status == .partial ? "\(summary.failed) failed" : nil)
    }

    private func makeClient(_ url: URL, key: APIKeySource.Key, organizationID: String?) -> ChatAPIClient {
        ChatAPIClient(baseURL: url, apiKey: key.value, keySource: key.source, organizationID: organizationID,
                      retryPolicy: RetryPolicy(maxRetries: maxRetries), timeout: timeout,
                      maxConnections: concurrency, maxResponseBytes: maxResponseMB * 1_000_000,
                      userAgent: "llamacloud-archive/\(ArchiveVersion.current)")
    }

    /// The config file's `[[sources]]` (those `--source` names), in one run.
    /// A source whose key cannot be read, or whose sync fails, fails alone:
    /// one line each on standard error, and exit 2 (1 when every one failed).
    private func runSources(_ configured: [ArchiveConfig.SourceSettings]) async throws {
        for name in sourceNames where !configured.contains(where: { $0.name.sameBytes(as: name) }) {
            throw fail("no source \(name.oneLineSafe) in the config file (it has \(configured.map(\.name).joined(separator: ", ")))",
                       code: ExitStatus.usage)
        }
        let chosen = sourceNames.isEmpty ? configured : configured.filter { source in sourceNames.contains { $0.sameBytes(as: source.name) } }
        let environment = ProcessInfo.processInfo.environment
        var failures: [(name: String, cause: String)] = []
        var sources: [SyncRunner.Source] = []
        for source in chosen {
            let base = source.baseURL ?? ChatAPIClient.defaultBaseURL
            guard let url = URL(string: base) else { failures.append((source.name, "invalid base URL \(base)")); continue }
            let key: APIKeySource.Key
            do { key = try APIKeySource.resolve(source.key, environment: environment) } catch {
                failures.append((source.name, error.description))
                continue
            }
            var options = SyncOptions()
            options.sourceName = source.name
            options.projects = source.projects.isEmpty ? [nil] : source.projects.map { $0 }
            options.organizationID = source.organizationID
            options.pageSize = pageSize
            options.concurrency = concurrency
            options.full = full
            options.redactor = CommandLineConfig.loaded.redactor
            options.contentRetentionDays = CommandLineConfig.loaded.contentDays
            sources.append(SyncRunner.Source(client: makeClient(url, key: key, organizationID: source.organizationID), options: options))
        }
        var outcomes: [SyncEngine.Outcome] = []
        if !sources.isEmpty {
            do throws(SyncRunner.Failure) {
                outcomes = try await SyncRunner.run(archivePath: location.path, sources: sources,
                                                    showProgress: !quiet && !json && Terminal.standardError.isInteractive)
            } catch {
                throw fail(error.message, code: error.exitCode)
            }
        }
        for outcome in outcomes {
            if let failure = outcome.failure {
                failures.append((outcome.name, ErrorWords.line(failure)))
            } else if let listing = outcome.listingFailure {
                failures.append((outcome.name, listing))
            }
        }
        report(outcomes, failures: failures)
        for failure in failures {
            Terminal.standardError.writeLine("archive: source \(failure.name.oneLineSafe) failed: \(failure.cause.oneLineSafe)")
        }
        if failures.count == chosen.count { throw ArchiveFailure.exit(ExitStatus.fatal) }
        let failedSessions = outcomes.reduce(0) { $0 + $1.summary.failed }
        try afterSync(partial: !failures.isEmpty ? "\(failures.count) of \(chosen.count) sources failed"
                                : failedSessions > 0 ? "\(failedSessions) failed" : nil)
    }

    /// Each source's summary: a line each (quiet: only those not ok, on
    /// standard error), or one JSON object with every source, failed ones too.
    private func report(_ outcomes: [SyncEngine.Outcome], failures: [(name: String, cause: String)]) {
        if json {
            var lines: [JSONValue] = outcomes.map { outcome in
                var object = (try? JSONParser.parse(SyncRunner.json(outcome.summary)).objectValue) ?? JSONObject()
                object["source"] = .string(outcome.name)
                if let listing = outcome.listingFailure, outcome.failure == nil { object["message"] = .string(listing) }
                return .object(object)
            }
            for failure in failures where !outcomes.contains(where: { $0.name.sameBytes(as: failure.name) }) {
                var object = JSONObject()
                object["source"] = .string(failure.name)
                object["status"] = .string("failed")
                object["message"] = .string(failure.cause)
                lines.append(.object(object))
            }
            var all = JSONObject()
            all["sources"] = .array(lines)
            Terminal.standardOutput.writeLine(JSONValue.object(all).serialized)
        } else {
            for outcome in outcomes where outcome.failure == nil && (!quiet || outcome.summary.status != .ok) {
                let line = "\(outcome.name.oneLineSafe): " + SyncRunner.line(outcome.summary)
                if quiet { Terminal.standardError.writeLine(line) } else { Terminal.standardOutput.writeLine(line) }
            }
        }
    }

    /// The backup and budgets after a sync that did not fail whole; then exit 2 for `partial`, 3 for a budget over.
    private func afterSync(partial: String?) throws {
        let backup = CommandLineConfig.loaded.backup
        if backup.afterSync, let folder = backup.dir {
            // The sync is done and kept whatever happens here; a failed backup is its own line and exit 1.
            do {
                let result = try ArchiveReader(path: location.path).backup(to: folder, keep: backup.keep)
                if !quiet && !json { BackupCommand.report(result, to: Terminal.standardOutput) }
            } catch {
                throw fail("synced, but the backup after it failed: \(ErrorWords.line(error))", code: ExitStatus.fatal)
            }
        }
        let budgets: [BudgetStatus]
        do { budgets = try BudgetAlerts.afterSync(path: location.path) } catch {
            throw fail("synced, but the budgets could not be checked: \(ErrorWords.line(error))", code: ExitStatus.fatal)
        }
        if let partial {
            Terminal.standardError.writeLine("archive: \(partial); details: archive status --db \(location.path)")
            throw ArchiveFailure.exit(ExitStatus.partial)
        }
        if failOnBudget, let over = budgets.first(where: \.isOver) {
            Terminal.standardError.writeLine("archive: budget \(over.budget.name.oneLineSafe) is over its limit")
            throw ArchiveFailure.exit(ExitStatus.overBudget)
        }
    }
}

/// The API key, from the environment or a file; never printed.
enum APIKeySource {
    enum Failure: Error, CustomStringConvertible {
        case unreadable(file: String)
        case empty(file: String)
        case severalLines(file: String)
        case readableByOthers(file: String, mode: Int)
        case notOwned(file: String)
        case unsetVariable(String)
        case none

        var description: String {
            switch self {
            case .unreadable(let file): "cannot read the API key file \(file)"
            case .empty(let file): "the API key file \(file) is empty"
            case .severalLines(let file): "the API key file \(file) holds more than one line"
            case let .readableByOthers(file, mode): "the API key file \(file) is readable by others (mode \(String(mode, radix: 8))); chmod 600 it"
            case .notOwned(let file): "the API key file \(file) belongs to another user"
            case .unsetVariable(let name): "the variable \(name) named by api_key_env is not set"
            case .none: "no API key: set LLAMA_CLOUD_API_KEY or pass --api-key-file"
            }
        }
    }

    /// The key and where it came from (`--api-key-file PATH` or the variable's name).
    struct Key {
        let value: String
        let source: String
    }

    /// A `[[sources]]` key: a file that only its owner, this user, can read, or a variable.
    static func resolve(_ key: ArchiveConfig.SourceSettings.Key, environment: [String: String]) throws(Failure) -> Key {
        switch key {
        case .environment(let name):
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                throw .unsetVariable(name)
            }
            return Key(value: value, source: name)
        case .file(let path):
            let file = (path as NSString).expandingTildeInPath
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else { throw .unreadable(file: file) }
            if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 { throw .readableByOthers(file: file, mode: mode) }
            if let owner = attributes[.ownerAccountID] as? NSNumber, owner.uint32Value != getuid() { throw .notOwned(file: file) }
            return try resolve(file: file, environment: [:])
        }
    }

    static func resolve(file: String?, environment: [String: String]) throws(Failure) -> Key {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw .unreadable(file: file)
            }
            if let attributes = try? FileManager.default.attributesOfItem(atPath: file),
               let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
                Terminal.standardError.writeLine(
                    "archive: warning: \(file) is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
            }
            let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else { throw .empty(file: file) }
            guard !key.contains(where: \.isNewline) else {
                throw .severalLines(file: file)
            }
            return Key(value: key, source: "--api-key-file \(file)")
        }
        for name in ["LLAMA_CLOUD_API_KEY", "LLAMA_PARSE_API_KEY"] {
            if let key = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty {
                return Key(value: key, source: name)
            }
        }
        throw .none
    }
}
