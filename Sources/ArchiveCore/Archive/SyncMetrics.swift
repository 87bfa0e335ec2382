import Foundation

/// The job's and the archive's figures after a sync, in Prometheus' text
/// exposition format, for node_exporter's textfile collector
/// (`[metrics] textfile`, `sync --metrics-file`). Written after every sync,
/// a failed one too: its failure shows, and the last success time stays
/// where the last good sync left it, so that "no success in two hours" can
/// page someone. Project labels are bounded: past `maxProjects` per source,
/// the cheaper projects fold into `other`.
public struct SyncMetrics {
    /// One source's part of the run: its summary, and the kind of failure
    /// that ended it (`fatal_network`, `fatal_key`, ... as `SyncError.kind`
    /// names them; `fatal_locked` when it could not start), if one did.
    public struct Outcome: Sendable {
        public let source: String
        public let summary: SyncSummary?
        public let failureKind: String?

        public init(source: String, summary: SyncSummary?, failureKind: String?) {
            self.source = source
            self.summary = summary
            self.failureKind = failureKind
        }
    }

    public var maxProjects = 20
    public var now = Date()

    public init(maxProjects: Int = 20) { self.maxProjects = maxProjects }

    private struct Family {
        let name: String
        let help: String
        var samples: [(labels: [(String, String)], value: Double)] = []
    }

    /// The exposition text: the run's outcomes, and what the archive holds
    /// (nothing of it when the archive cannot be read).
    public func text(outcomes: [Outcome], archive: Archive) -> String {
        var families: [Family] = []
        func family(_ name: String, _ help: String, _ fill: (inout Family) -> Void) {
            var family = Family(name: "llamacloud_archive_" + name, help: help)
            fill(&family)
            if !family.samples.isEmpty { families.append(family) }
        }
        let ended = now.timeIntervalSince1970
        family("sync_last_run_timestamp_seconds", "When the source's last sync ended (Unix time).") { f in
            for outcome in outcomes { f.samples.append(([("source", outcome.source)], ended)) }
        }
        family("sync_last_run_success", "1 when the source's last sync did not fail whole (some sessions may have failed), else 0.") { f in
            for outcome in outcomes {
                let ok = outcome.failureKind == nil && outcome.summary.map { $0.status != .failed } ?? false
                f.samples.append(([("source", outcome.source)], ok ? 1 : 0))
            }
        }
        let summaries = outcomes.compactMap { outcome in outcome.summary.map { (outcome.source, $0) } }
        family("sync_duration_seconds", "How long the source's last sync took.") { f in
            for (source, summary) in summaries { f.samples.append(([("source", source)], summary.seconds)) }
        }
        family("sync_sessions", "Sessions of the source's last sync, by what became of them.") { f in
            for (source, summary) in summaries {
                for (state, count) in [("listed", summary.listed), ("retrieved", summary.retrieved), ("new", summary.new),
                                       ("updated", summary.updated), ("unchanged", summary.unchanged), ("deleted", summary.deleted),
                                       ("forgotten", summary.forgotten), ("failed", summary.failed)] {
                    f.samples.append(([("source", source), ("state", state)], Double(count)))
                }
            }
        }
        family("sync_requests", "HTTP requests of the source's last sync, retries included.") { f in
            for (source, summary) in summaries { f.samples.append(([("source", source)], Double(summary.requests))) }
        }
        family("sync_retries", "Requests of the source's last sync sent again after a failure.") { f in
            for (source, summary) in summaries { f.samples.append(([("source", source)], Double(summary.retries))) }
        }
        var failures: [(source: String, kind: String, count: Int)] = []
        var archived: ArchiveFigures?
        do {
            archived = try archive.read { reader in
                try ArchiveFigures(reader: reader, runs: summaries.map { ($0.0, $0.1.runID) }, settings: archive.settings, now: now)
            }
        } catch {
            archived = nil
        }
        for outcome in outcomes {
            if let kind = outcome.failureKind ?? (outcome.summary?.status == .failed ? "fatal_other" : nil) {
                failures.append((outcome.source, kind, 1))
            }
        }
        failures += archived?.sessionFailures ?? []
        family("sync_failures", "Failures of the source's last sync, by kind: the run's own (fatal_*), or a session's (http_STATUS, other).") { f in
            for failure in failures { f.samples.append(([("source", failure.source), ("kind", failure.kind)], Double(failure.count))) }
        }
        if let archived {
            family("sync_last_success_timestamp_seconds", "When a sync of the source last ended without failing whole (Unix time).") { f in
                for (source, seconds) in archived.lastSuccess { f.samples.append(([("source", source)], seconds)) }
            }
            family("archive_size_bytes", "The archive file, with its WAL.") { f in f.samples.append(([], Double(archived.size))) }
            family("sessions", "Sessions with runs in the archive, by source and project.") { f in
                for row in bounded(archived.projects) { f.samples.append(([("source", row.source), ("project", row.project)], row.sessions)) }
            }
            family("tokens", "Tokens of every archived run, by source, project and direction.") { f in
                for row in bounded(archived.projects) {
                    f.samples.append(([("source", row.source), ("project", row.project), ("direction", "input")], row.input))
                    f.samples.append(([("source", row.source), ("project", row.project), ("direction", "output")], row.output))
                }
            }
            family("cost_dollars", "Cost of every archived run with a price, by source and project (prices of the config file).") { f in
                for row in bounded(archived.projects) where row.cost != nil {
                    f.samples.append(([("source", row.source), ("project", row.project)], row.cost!))
                }
            }
            family("budget_spend_dollars", "Spend so far in the budget's current period.") { f in
                for budget in archived.budgets { f.samples.append(([("budget", budget.budget.name)], budget.spend)) }
            }
            family("budget_limit_dollars", "The budget's limit for its period.") { f in
                for budget in archived.budgets { f.samples.append(([("budget", budget.budget.name)], budget.budget.limit)) }
            }
        }
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n"
            for sample in family.samples {
                let labels = sample.labels.isEmpty ? ""
                    : "{" + sample.labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",") + "}"
                text += "\(family.name)\(labels) \(Self.number(sample.value))\n"
            }
        }
        return text
    }

    /// The text written to `path` whole or not at all (a new file renamed
    /// over it), readable by the collector's user (0644).
    public func write(to path: String, outcomes: [Outcome], archive: Archive) throws {
        let text = text(outcomes: outcomes, archive: archive)
        try PrivateFiles.write(to: path, mode: 0o644) { try $0.write(contentsOf: Data(text.utf8)) }
    }

    /// The projects of each source, the costliest `maxProjects` by name and the rest as `other`.
    private func bounded(_ rows: [ArchiveFigures.Project]) -> [ArchiveFigures.Project] {
        var out: [ArchiveFigures.Project] = []
        for source in Set(rows.map(\.source)).sorted() {
            let ranked = rows.filter { $0.source == source }
                .sorted { ($0.cost ?? 0, $0.input + $0.output) > ($1.cost ?? 0, $1.input + $1.output) }
            out += ranked.prefix(maxProjects)
            let rest = ranked.dropFirst(maxProjects)
            if !rest.isEmpty {
                let costs = rest.compactMap(\.cost)
                out.append(.init(source: source, project: "other", sessions: rest.reduce(0) { $0 + $1.sessions },
                                 input: rest.reduce(0) { $0 + $1.input }, output: rest.reduce(0) { $0 + $1.output },
                                 cost: costs.isEmpty ? nil : costs.reduce(0, +)))
            }
        }
        return out
    }

    /// A label value as the format wants it: backslash, double quote and line feed escaped.
    static func escaped(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A sample value: an integer as such, else Go's float forms (`+Inf`, `NaN`).
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

/// What the archive holds, for the metrics.
private struct ArchiveFigures {
    struct Project {
        let source: String
        let project: String
        let sessions: Double
        let input: Double
        let output: Double
        let cost: Double?
    }

    var lastSuccess: [(String, Double)] = []
    var size: Int64 = 0
    var projects: [Project] = []
    var budgets: [BudgetStatus] = []
    var sessionFailures: [(source: String, kind: String, count: Int)] = []

    init(reader: ArchiveReader, runs: [(source: String, runID: Int64)], settings: ArchiveConfig, now: Date) throws {
        let database = reader.database
        try database.forEachRow("SELECT name, last_synced_at FROM sources WHERE last_synced_at IS NOT NULL ORDER BY source_key") { row in
            if let date = Timestamp.date(fromNormalized: try row.string(1)) { lastSuccess.append((try row.string(0), date.timeIntervalSince1970)) }
        }
        for suffix in ["", "-wal"] {
            let attributes = try? FileManager.default.attributesOfItem(atPath: reader.path + suffix)
            size += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
        }
        var report = TokensReport(groupings: [.source, .project], window: .unbounded,
                                  pricing: settings.pricing)
        report.top = nil
        let table = try reader.tokens(report)
        let column = { (name: String) in table.columns.firstIndex { $0.name == name } }
        let sessionsAt = column("sessions"), inputAt = column("input_tokens"), outputAt = column("output_tokens"), costAt = column("cost_usd")
        let sourceAt = column("source"), projectAt = column("project_id")
        for row in table.rows {
            func value(_ index: Int?) -> Double? {
                guard let index else { return nil }
                switch row[index] {
                case .integer(let number): return Double(number)
                case .number(let number): return number
                default: return nil
                }
            }
            func text(_ index: Int?) -> String {
                guard let index, case .text(let value) = row[index] else { return "" }
                return value
            }
            projects.append(Project(source: text(sourceAt), project: text(projectAt), sessions: value(sessionsAt) ?? 0,
                                    input: value(inputAt) ?? 0, output: value(outputAt) ?? 0, cost: value(costAt)))
        }
        if !settings.budgets.isEmpty, let pricing = settings.pricing {
            budgets = try reader.budgetStatuses(settings.budgets, pricing: pricing, zone: settings.timeZone, now: now)
        }
        let failures = try database.cached("""
            SELECT CASE WHEN http_status IS NULL THEN 'other' ELSE 'http_' || http_status END, count(*)
            FROM sync_failures WHERE run_id = ? GROUP BY 1 ORDER BY 1
            """)
        for run in runs where run.runID > 0 {
            try failures.forEachRow([run.runID]) { row in
                sessionFailures.append((run.source, try row.string(0), try row.int(1)))
            }
        }
    }
}
