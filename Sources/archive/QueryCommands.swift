import ArchiveCore
import ArgumentParser
import Foundation

struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "List sessions with their runs, tokens and errors.",
        discussion: helpText(examples:
            "archive sessions --project proj-support --since 2026-03-01",
            "archive sessions --order tokens --limit 5 --price-input 3 --price-output 15"))

    @OptionGroup var report: ReportOptions
    @Option(help: "Only this project.") var project: String?
    @OptionGroup var sourceFilter: SourceFilterOptions
    @Flag(help: "Only sessions deleted remotely (kept here).") var deleted = false
    @Option(name: [.customShort("n"), .long], help: "At most this many sessions (0: all).") var limit = 50
    @Option(help: "Order: updated (newest first), tokens (most first) or title.") var order: SessionsQuery.Order = .updated
    @OptionGroup var prices: PricingOptions

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
    }

    func run() throws {
        try report.show { store, window in
            var query = SessionsQuery()
            query.project = project
            query.sources = sourceFilter.sources
            query.window = window
            query.onlyDeleted = deleted
            query.limit = limit == 0 ? -1 : limit  // SQLite's LIMIT -1: no limit
            query.order = order
            query.pricing = try prices.resolved(report.location.archive().settings)
            return try store.sessions(query)
        }
    }
}

extension SessionsQuery.Order: ExpressibleByArgument {}
extension TokensReport.WeekStart: ExpressibleByArgument {}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Full-text search over questions, answers, thinking and tool data, newest first.",
        discussion: helpText("""
            Order: newest first: the matches in the sessions that came into the archive last, each session's latest \
            events first. A page takes about as long whatever the number of matches, and --project, --source, \
            --since and --until narrow the work. Every word must match, so a rare word finds just the sessions it \
            names. --rank orders every match by relevance (bm25) instead, at a cost that grows with the matches.
            """, examples:
            "archive search \"renewal clause\"",
            "archive search renewal --project proj-research --since 2026-03-01 --limit 5"))

    @OptionGroup var report: ReportOptions
    @Argument(help: "Words to find (all of them). With --fts, an FTS5 query.") var query: String
    @Option(name: .customLong("project"), help: "Only this project; repeat for several.") var projects: [String] = []
    @OptionGroup var sourceFilter: SourceFilterOptions
    @Option(name: [.customShort("n"), .long], help: "At most this many results (0: all).") var limit = 20
    @Flag(help: "Take QUERY as raw FTS5 syntax (phrases, OR, NEAR, prefix*).") var fts = false
    @Flag(help: "Order every match by relevance (bm25), best first, instead of newest first; slower as matches grow.") var rank = false

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
    }

    func run() throws {
        func search(_ window: TimeWindow) -> SearchQuery {
            var search = SearchQuery(text: query)
            search.rawFTS = fts
            search.byRelevance = rank
            search.projects = projects
            search.sources = sourceFilter.sources
            search.window = window
            search.limit = limit == 0 ? -1 : limit
            if report.output.format == .table { search.highlight = (HighlightMarks.open, HighlightMarks.close) }
            return search
        }
        // Every match is streamed as it is found, in flat memory; a page is shown whole.
        if limit == 0 && !rank {
            return try report.stream { store, window, begin, row in try store.streamSearch(search(window), begin: begin, row: row) }
        }
        try report.show { store, window in try store.search(search(window)) }
    }
}

struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Token accounting: runs, errors, input, output and cost by day, week, month, session, project or index.",
        discussion: helpText("""
            --by takes one key or two (--by project,day): each is a column of its own (day, week, month, project_id, \
            index_id, session_id). --by session lists every session, newest first, as it goes; --limit N keeps the N \
            costliest instead. Prices are USD per million tokens: --price-input and --price-output, or --pricing FILE \
            (JSON or TOML) with rates that change over time and per project, else the config file's [[rates]]. Cost is empty when a run with tokens has no \
            price, and standard error says which projects and days lack one.
            """, examples:
            "archive tokens --by project,month --price-input 3 --price-output 15",
            "archive tokens --by day --chart --since 2026-03-01"))

    @OptionGroup var report: ReportOptions
    @Option(help: "Group by day, week, month, session, project, index or source, or a pair such as project,day.") var by = "day"
    @Option(name: .customLong("project"), help: "Only this project; repeat for several.") var projects: [String] = []
    @OptionGroup var sourceFilter: SourceFilterOptions
    @Flag(help: "Add a bar per row: cost when every row has one, else tokens.") var chart = false
    @Option(help: "First day of a week: monday or sunday.") var weekStart: TokensReport.WeekStart = .monday
    @Option(name: [.customShort("n"), .long],
            help: "Only the first N rows, by cost when prices are known, else tokens (--by session, project or index).")
    var limit: Int?
    @OptionGroup var prices: PricingOptions

    func validate() throws {
        let groupings: [TokensReport.Grouping]
        do { groupings = try TokensReport.groupings(from: by) } catch { throw ValidationError(ErrorWords.line(error)) }
        if let limit {
            guard limit > 0 else { throw ValidationError("--limit must be 1 or more") }
            guard groupings.count == 1, [.session, .project, .index, .source].contains(groupings[0]) else {
                throw ValidationError("--limit ranks the rows of --by session, project, index or source, not of --by \(by)")
            }
        }
    }

    func run() throws {
        let prices = try prices.resolved(report.location.archive().settings)
        let groupings = try TokensReport.groupings(from: by)
        let charted = chart && report.output.format == .table
        func tokens(_ window: TimeWindow) -> TokensReport {
            var tokens = TokensReport(groupings: groupings, window: window, weekStart: weekStart, pricing: prices, projects: projects)
            tokens.sources = sourceFilter.sources
            if let limit { tokens.top = (limit, prices != nil) }
            return tokens
        }
        // Every session goes out as it is made, unless a chart must first see the largest.
        if !charted, tokens(.unbounded).streams {
            return try report.stream { store, window, begin, row in try store.streamTokens(tokens(window), begin: begin, row: row) }
        }
        try report.show { store, window in
            let table = try store.tokens(tokens(window))
            return charted ? TokenChart.adding(to: table) : table
        }
    }
}

struct ToolsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools", abstract: "Per tool: calls, calls with no result, error results, share of runs, calls per run.",
        discussion: helpText(examples:
            "archive tools --since 2026-03-01",
            "archive tools --project proj-support --json"))

    @OptionGroup var report: ReportOptions
    @Option(name: .customLong("project"), help: "Only this project; repeat for several.") var projects: [String] = []
    @OptionGroup var sourceFilter: SourceFilterOptions

    func run() throws {
        try report.show { store, window in
            var tools = ToolsReport(window: window, projects: projects)
            tools.sources = sourceFilter.sources
            return try store.tools(tools)
        }
    }
}

struct SQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Run one read-only SQL statement over the archive.",
        discussion: helpText("The archive is opened read-only: writes, ATTACH and PRAGMAs that set state are refused.", examples:
            "archive sql \"SELECT kind, count(*) FROM events GROUP BY kind\"",
            "archive sql \"SELECT session_id, title FROM sessions WHERE project_id = ?\" --param proj-support"))

    @OptionGroup var location: ArchiveLocationOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var pager: PagerOptions
    @Argument(help: "One SQL statement; ? placeholders take --param values in order.") var query: String
    @Option(name: .customLong("param"), help: "A value for the next ? placeholder.") var parameters: [String] = []
    @Option(help: "Stop the statement after this many seconds (default: no limit).") var maxSeconds: Double?

    func validate() throws {
        if let maxSeconds, !(maxSeconds > 0 && maxSeconds <= 86_400) { throw ValidationError("--max-seconds must be above 0, at most 86400") }
    }

    func run() throws {
        try location.archive().reading(allowEmpty: true) { reader in
            var failure: Error?
            Pager.page(enabled: pager.enabled && output.format == .table) {
                var sink = RowSink(format: output.format, renderer: TableRenderer())
                do {
                    let run = { (reader: ArchiveReader) in
                        try reader.sql(query, parameters: parameters, columns: { sink.begin($0) }, row: { sink.add($0) })
                    }
                    _ = try maxSeconds.map { try reader.within(ReadingLimits(seconds: $0), run) } ?? run(reader)
                    sink.end()
                } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }
}

/// What every table command shares: the archive, the output format, the pager
/// and the time window.
struct ReportOptions: ParsableArguments {
    @OptionGroup var location: ArchiveLocationOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var pager: PagerOptions
    @OptionGroup var time: TimeOptions

    /// Reads the time window (a bad one fails before anything opens), opens
    /// the archive, asks it, and shows the answer, paged on a terminal.
    func show(_ ask: (ArchiveReader, TimeWindow) throws -> QueryTable) throws {
        let archive = location.archive()
        let window = try time.window(archive.settings)
        try archive.reading { store in
            let table = try answer { try ask(store, window) }
            for warning in table.warnings { Terminal.standardError.writeLine("archive: \(warning.oneLineSafe)") }
            Pager.page(enabled: pager.enabled) { TableRenderer(zone: window.zone).render(table, as: output.format) }
        }
    }

    /// As `show`, for a report whose rows are written as they are made: `ask`
    /// passes the frame to `begin`, each row to `row`, and returns the frame
    /// with its totals and warnings.
    func stream(_ ask: (ArchiveReader, TimeWindow, _ begin: (QueryTable) -> Void, _ row: ([QueryTable.Cell]) -> Void) throws -> QueryTable) throws {
        let archive = location.archive()
        let window = try time.window(archive.settings)
        try archive.reading { store in
            var outcome: Result<QueryTable, Error> = .failure(CancellationError())
            Pager.page(enabled: pager.enabled && output.format == .table) {
                var sink = RowSink(format: output.format, renderer: TableRenderer(zone: window.zone))
                outcome = Result { try ask(store, window, { sink.begin(frame: $0) }, { sink.add($0) }) }
                if case .success(let frame) = outcome { sink.end(frame: frame) }
            }
            let frame = try answer { try outcome.get() }
            for warning in frame.warnings { Terminal.standardError.writeLine("archive: \(warning.oneLineSafe)") }
        }
    }
}

/// `--source`, for every command that reads sessions of some sources only.
struct SourceFilterOptions: ParsableArguments {
    @Option(name: .customLong("source"),
            help: "Only this source (a [[sources]] name; `default` for sessions synced with flags alone); repeat for several.")
    var sources: [String] = []
}

/// Prices for `tokens` and `report`: flat, from a file, else the config file's `[[rates]]`.
struct PricingOptions: ParsableArguments {
    @Option(help: "USD per million input tokens.") var priceInput: Double?
    @Option(help: "USD per million output tokens.") var priceOutput: Double?
    @Option(help: "A pricing file (JSON or TOML) with dated, per-project rates.") var pricing: String?

    func validate() throws {
        if (priceInput == nil) != (priceOutput == nil) {
            throw ValidationError("--price-input and --price-output go together")
        }
        if pricing != nil && priceInput != nil {
            throw ValidationError("use either --pricing or --price-input/--price-output")
        }
        if let priceInput, priceInput < 0 { throw ValidationError("--price-input must not be negative") }
        if let priceOutput, priceOutput < 0 { throw ValidationError("--price-output must not be negative") }
    }

    /// Flags first, else the archive's settings' `[[rates]]`.
    func resolved(_ settings: ArchiveConfig) throws -> Pricing? {
        if let priceInput, let priceOutput { return .flat(input: priceInput, output: priceOutput) }
        if let pricing {
            do { return try Pricing.load(path: pricing) } catch { throw fail(error, code: ExitStatus.usage) }
        }
        return settings.pricing
    }
}
