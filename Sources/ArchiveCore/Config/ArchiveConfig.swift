import Foundation

/// `$XDG_CONFIG_HOME/llamacloud-archive/config.toml` (`~/.config/...` when
/// unset): defaults saved once. Flags override environment variables, which
/// override this file.
///
///     db = "/srv/archive/chats.db"
///     tz = "Europe/Berlin"
///
///     [sync]
///     base_url = "https://api.cloud.eu.llamaindex.ai"
///     projects = ["proj-research", "proj-legal"]
///     organization_id = "org-1"
///
///     [[sources]]
///     name = "eu"
///     base_url = "https://api.cloud.eu.llamaindex.ai"
///     api_key_file = "~/.config/llamacloud-archive/eu.key"
///     projects = ["proj-legal"]
///
///     [[rates]]
///     input = 3.0
///     output = 15.0
///
///     [retention]
///     content_days = 400
///
///     [[redact]]
///     name = "email"
///     pattern = "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}"
///
///     [[budgets]]
///     name = "research"
///     period = "month"
///     limit = 250.0
///     thresholds = [0.8, 1.0]
///     projects = ["proj-research"]
///     notify_command = "curl -s -X POST -H 'Content-Type: application/json' --data-binary @- https://hooks.slack.com/services/..."
public struct ArchiveConfig: Sendable, Equatable {
    public var db: String?
    public var tz: String?
    public var pricing: Pricing?
    public var sync = SyncDefaults()
    public var backup = BackupSettings()
    /// `[dataset] dir`: the folder `archive export --dataset` keeps, named so
    /// that `forget`, `prune` and `redact` can say it still holds what they removed.
    public var datasetDir: String?
    /// `[retention] content_days`: the content of sessions last updated longer
    /// ago than this is pruned at the end of every sync.
    public var contentDays: Int?
    /// `[[redact]]` rules, in the file's order.
    public var redactions: [Redaction] = []
    /// `[[budgets]]`, in the file's order.
    public var budgets: [Budget] = []
    /// `[mcp] max_seconds`: how long one tool call of `archive mcp` may take.
    public var mcpMaxSeconds: Double?
    /// `[metrics] textfile`: where each sync writes its Prometheus metrics.
    public var metricsTextfile: String?
    /// `[metrics] max_projects`: projects given a label of their own per
    /// source, the costliest; the others fold into `other`.
    public var metricsMaxProjects = 20
    /// `[[sources]]`, in the file's order: the accounts and regions `sync` syncs.
    public var sources: [SourceSettings] = []

    /// A `[[sources]]` table: where a source's sessions come from and where
    /// its key is read (a file or a variable, never the key itself).
    public struct SourceSettings: Sendable, Equatable {
        public enum Key: Sendable, Equatable {
            /// A file only its owner, this user, can read (`api_key_file`, `--api-key-file`).
            case file(String)
            /// A variable (`api_key_env`).
            case environment(String)
            /// LLAMA_CLOUD_API_KEY, else LLAMA_PARSE_API_KEY: the default source's key without a file.
            case defaultVariables
        }
        public let name: String
        public var baseURL: String?
        public var key: Key
        public var organizationID: String?
        public var projects: [String] = []
        /// The file's line, for messages.
        public var line = 0

        public init(name: String, baseURL: String? = nil, key: Key, organizationID: String? = nil, projects: [String] = []) {
            self.name = name
            self.baseURL = baseURL
            self.key = key
            self.organizationID = organizationID
            self.projects = projects
        }
    }

    /// Whether `text` can be a source's base URL: http or https, with a host.
    public static func isBaseURL(_ text: String) -> Bool {
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else { return false }
        return true
    }

    /// The source named `default` that a sync without `[[sources]]` syncs:
    /// each setting from `given` (the command line), else the environment
    /// (`LLAMA_CLOUD_BASE_URL`), else `[sync]`, else the API's defaults. It
    /// goes through the same checks and key rules as a `[[sources]]` entry.
    public func defaultSource(baseURL given: String?, keyFile: String?, projects: [String], organizationID: String?,
                              defaultBaseURL: String,
                              environment: [String: String] = ProcessInfo.processInfo.environment) -> SourceSettings {
        let base = given ?? environment["LLAMA_CLOUD_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? sync.baseURL ?? defaultBaseURL
        return SourceSettings(name: SourceKey.defaultName, baseURL: base, key: keyFile.map { .file($0) } ?? .defaultVariables,
                              organizationID: organizationID ?? sync.organizationID, projects: projects.isEmpty ? sync.projects : projects)
    }

    /// A source name: letters, digits, `_`, `-` and `.` (it is typed as `--source NAME` and in `SOURCE:ID`).
    public static func isSourceName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == ".")
        }
    }

    public struct Redaction: Sendable, Equatable {
        public let name: String
        public let pattern: String
    }

    /// The `[[redact]]` rules, ready to apply (each was checked when the file was read).
    public var redactor: Redactor {
        Redactor(rules: redactions.compactMap { Redactor.Rule(name: $0.name, pattern: $0.pattern) })
    }

    /// `[backup]`: where `archive backup` and the backup after each sync go.
    public struct BackupSettings: Sendable, Equatable {
        public var dir: String?
        public var keep: Int?
        /// A backup at the end of every sync that did not fail.
        public var afterSync = false
        /// Checkpoints left to an external replicator such as Litestream: the
        /// archive's writers make none (automatic checkpoints off).
        public var externalCheckpoints = false
    }

    public struct SyncDefaults: Sendable, Equatable {
        public var baseURL: String?
        public var projects: [String] = []
        public var organizationID: String?
    }

    public init() {}

    /// `tz` as a zone; the system's when unset.
    public var timeZone: TimeZone { tz.flatMap(TimeZone.init(identifier:)) ?? .current }

    /// Where the file is looked for.
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        ArchiveLocation.xdgPath("config.toml", home: "XDG_CONFIG_HOME", orUnderHome: ".config", environment: environment)
    }

    /// The file's settings; none when there is no file. A file that cannot be
    /// read or holds anything else fails naming the file and line.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SettingsFileError) -> ArchiveConfig {
        let path = path(environment: environment)
        guard FileManager.default.fileExists(atPath: path) else { return ArchiveConfig() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, kind: .config)
        }
        return try parse(Array(data), path: path)
    }

    static func budget(_ table: TOMLFields) throws(SettingsFileError) -> Budget {
        try table.allowOnly(["name", "period", "limit", "thresholds", "sources", "projects", "indexes", "notify_command", "notify_timeout_seconds"],
                            expected: "name, period, limit, thresholds, sources, projects, indexes, notify_command, notify_timeout_seconds")
        guard let name = try table.nonEmptyString("name") else { throw table.failure(line: table.table.line, "[[budgets]] needs a name") }
        guard let periodName = try table.nonEmptyString("period") else { throw table.failure(line: table.table.line, "[[budgets]] needs a period (day, week or month)") }
        guard let period = Budget.Period(rawValue: periodName) else { throw table.failure(table.table["period"]!, "must be day, week or month") }
        guard let (limit, entry) = try table.number("limit") else { throw table.failure(line: table.table.line, "[[budgets]] needs a limit") }
        guard limit > 0, limit.isFinite else { throw table.failure(entry, "must be a positive amount") }
        var budget = Budget(name: name, period: period, limit: limit)
        if let (thresholds, entry) = try table.numbers("thresholds") {
            guard !thresholds.isEmpty, thresholds.allSatisfy({ $0 > 0 && $0 <= 100 }) else {
                throw table.failure(entry, "must be shares of the limit above 0, such as [0.8, 1.0]")
            }
            budget.thresholds = Array(Set(thresholds)).sorted()
        }
        budget.sources = try table.nonEmptyStrings("sources", meaning: "source names") ?? []
        budget.projects = try table.nonEmptyStrings("projects", meaning: "project ids") ?? []
        budget.indexes = try table.nonEmptyStrings("indexes", meaning: "index ids") ?? []
        budget.notifyCommand = try table.nonEmptyString("notify_command")
        if let (seconds, entry) = try table.number("notify_timeout_seconds") {
            guard seconds > 0, seconds <= 3600 else { throw table.failure(entry, "must be a number of seconds above 0, at most 3600") }
            budget.notifyTimeoutSeconds = seconds
        }
        return budget
    }

    static func source(_ table: TOMLFields) throws(SettingsFileError) -> SourceSettings {
        try table.refuseSecrets(except: ["api_key_file", "api_key_env"])
        try table.allowOnly(["name", "base_url", "api_key_file", "api_key_env", "organization_id", "projects"],
                            expected: "name, base_url, api_key_file, api_key_env, organization_id, projects")
        guard let name = try table.nonEmptyString("name") else { throw table.failure(line: table.table.line, "[[sources]] needs a name") }
        guard isSourceName(name) else {
            throw table.failure(table.table["name"]!, "must be letters, digits, _, - and . only (it is typed in commands and in SOURCE:ID)")
        }
        let file = try table.nonEmptyString("api_key_file"), variable = try table.nonEmptyString("api_key_env")
        let key: SourceSettings.Key
        switch (file, variable) {
        case let (file?, nil): key = .file(file)
        case let (nil, variable?): key = .environment(variable)
        case (_?, _?): throw table.failure(table.table["api_key_env"]!, "and api_key_file exclude each other")
        case (nil, nil):
            throw table.failure(line: table.table.line, "[[sources]] \(name) needs api_key_file (a file of mode 0600) or api_key_env (a variable's name)")
        }
        var source = SourceSettings(name: name, key: key)
        if let base = try table.nonEmptyString("base_url") {
            guard isBaseURL(base) else { throw table.failure(table.table["base_url"]!, "must be an http or https URL") }
            source.baseURL = base
        }
        source.organizationID = try table.nonEmptyString("organization_id")
        source.projects = try table.nonEmptyStrings("projects", meaning: "project ids") ?? []
        source.line = table.table.line
        return source
    }

    static func parse(_ bytes: [UInt8], path: String) throws(SettingsFileError) -> ArchiveConfig {
        let file = try TOMLFields.read(bytes, path: path)
        try file.refuseSecrets()
        try file.subtable("sync")?.refuseSecrets()
        try file.allowOnly(["db", "tz", "sync", "sources", "rates", "backup", "dataset", "retention", "redact", "budgets", "mcp", "metrics"],
                           expected: "db, tz, [sync], [[sources]], [[rates]], [backup], [dataset], [retention], [[redact]], [[budgets]], [mcp], [metrics]")
        var config = ArchiveConfig()
        config.db = try file.nonEmptyString("db")
        if let zone = try file.nonEmptyString("tz") {
            guard TimeZone(identifier: zone) != nil else {
                throw file.failure(line: file.table["tz"]!.line, "unknown time zone \"\(zone)\" (use an IANA name such as Europe/Berlin)")
            }
            config.tz = zone
        }
        if let sync = try file.subtable("sync") {
            try sync.allowOnly(["base_url", "projects", "organization_id"], expected: "base_url, projects, organization_id")
            config.sync.baseURL = try sync.nonEmptyString("base_url")
            if let base = config.sync.baseURL, !isBaseURL(base) { throw sync.failure(sync.table["base_url"]!, "must be an http or https URL") }
            config.sync.organizationID = try sync.nonEmptyString("organization_id")
            config.sync.projects = try sync.nonEmptyStrings("projects", meaning: "project ids") ?? []
        }
        if let mcp = try file.subtable("mcp") {
            try mcp.allowOnly(["max_seconds"], expected: "max_seconds")
            if let (seconds, entry) = try mcp.number("max_seconds") {
                guard seconds > 0, seconds <= 3600 else { throw mcp.failure(entry, "must be a number of seconds above 0, at most 3600") }
                config.mcpMaxSeconds = seconds
            }
        }
        if let backup = try file.subtable("backup") {
            try backup.allowOnly(["dir", "keep", "after_sync", "external_checkpoints"], expected: "dir, keep, after_sync, external_checkpoints")
            config.backup.dir = try backup.nonEmptyString("dir")
            if let (keep, entry) = try backup.number("keep") {
                guard keep >= 1, keep == keep.rounded(), keep < 100_000 else { throw backup.failure(entry, "must be a whole number, 1 or more") }
                config.backup.keep = Int(keep)
            }
            config.backup.afterSync = try backup.boolean("after_sync") ?? false
            config.backup.externalCheckpoints = try backup.boolean("external_checkpoints") ?? false
            if config.backup.afterSync && config.backup.dir == nil {
                throw backup.failure(backup.table["after_sync"]!, "needs dir, the folder the backups go to")
            }
        }
        if let metrics = try file.subtable("metrics") {
            try metrics.allowOnly(["textfile", "max_projects"], expected: "textfile, max_projects")
            config.metricsTextfile = try metrics.nonEmptyString("textfile").map { ($0 as NSString).expandingTildeInPath }
            if let (count, entry) = try metrics.number("max_projects") {
                guard count >= 1, count == count.rounded(), count <= 1000 else { throw metrics.failure(entry, "must be a whole number from 1 to 1000") }
                config.metricsMaxProjects = Int(count)
            }
        }
        if let dataset = try file.subtable("dataset") {
            try dataset.allowOnly(["dir"], expected: "dir")
            config.datasetDir = try dataset.nonEmptyString("dir").map { ($0 as NSString).expandingTildeInPath }
        }
        if let retention = try file.subtable("retention") {
            try retention.allowOnly(["content_days"], expected: "content_days")
            if let (days, entry) = try retention.number("content_days") {
                guard days >= 1, days == days.rounded(), days < 100_000 else { throw retention.failure(entry, "must be a whole number of days, 1 or more") }
                config.contentDays = Int(days)
            }
        }
        for rule in try file.arrayOfTables("redact") ?? [] {
            try rule.allowOnly(["name", "pattern"], expected: "name, pattern")
            guard let name = try rule.nonEmptyString("name") else { throw rule.failure(line: rule.table.line, "[[redact]] needs a name") }
            guard name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }) else {
                throw rule.failure(rule.table["name"]!, "must be letters, digits, _ and - only (it is written into the text as [redacted:NAME])")
            }
            if config.redactions.contains(where: { $0.name.sameBytes(as: name) }) {
                throw rule.failure(rule.table["name"]!, "\"\(name)\" names two rules")
            }
            guard let pattern = try rule.nonEmptyString("pattern") else { throw rule.failure(line: rule.table.line, "[[redact]] needs a pattern") }
            guard Redactor.Rule(name: name, pattern: pattern) != nil else {
                throw rule.failure(rule.table["pattern"]!, "is not a regular expression that matches some text (an empty match is refused)")
            }
            config.redactions.append(Redaction(name: name, pattern: pattern))
        }
        for table in try file.arrayOfTables("sources") ?? [] {
            let source = try Self.source(table)
            if config.sources.contains(where: { $0.name.sameBytes(as: source.name) }) {
                throw table.failure(table.table["name"]!, "\"\(source.name)\" names two sources")
            }
            config.sources.append(source)
        }
        config.pricing = try Pricing.rates(in: file)
        for table in try file.arrayOfTables("budgets") ?? [] {
            try table.refuseSecrets()
            let budget = try Self.budget(table)
            if config.budgets.contains(where: { $0.name.sameBytes(as: budget.name) }) {
                throw table.failure(table.table["name"]!, "\"\(budget.name)\" names two budgets")
            }
            guard config.pricing != nil else {
                throw table.failure(line: table.table.line, "[[budgets]] are in the prices' currency: add [[rates]] to this file")
            }
            config.budgets.append(budget)
        }
        return config
    }
}
