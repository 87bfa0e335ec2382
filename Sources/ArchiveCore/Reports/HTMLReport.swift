import Foundation
import LosslessJSON

/// `archive report`: one self-contained HTML page (inline CSS and SVG, no
/// script, no font or image from anywhere) of spend and tokens: over time
/// stacked by project, by project and by index, the costliest sessions, tool
/// calls with their failure rates, error runs over time, and the prices used;
/// by source too, in an archive of several accounts or regions.
/// Every figure comes from the same reports as `archive tokens` and `tools`.
public struct HTMLReport {
    public var window: TimeWindow
    public var projects: [String] = []
    /// Only sessions of these sources, by name (empty: all).
    public var sources: [String] = []
    public var pricing: Pricing?
    public var weekStart: TokensReport.WeekStart = .monday
    /// Shown in the heading: the archive's path, say.
    public var subject: String
    public var generatedAt: String

    /// Ways to give prices, shown as code where the report has none (the
    /// command line names its flags here).
    public var pricingHints: [String] = []

    public init(window: TimeWindow, projects: [String] = [], pricing: Pricing?, subject: String, generatedAt: String) {
        self.window = window
        self.projects = projects
        self.pricing = pricing
        self.subject = subject
        self.generatedAt = generatedAt
    }

    /// Days while the report spans at most this many, weeks past it.
    static let dailyLimit = 120
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    /// The page, and what the reader must know besides (prices missing for some runs).
    public struct Page: Sendable {
        public let html: String
        public let warnings: [String]
    }

    public func render(reader store: ArchiveReader) throws -> Page {
        // Every section from one snapshot: a sync committing meanwhile is in all of them or none.
        try store.database.readTransaction { try page(from: store) }
    }

    private func page(from store: ArchiveReader) throws -> Page {
        func report(_ keys: [TokensReport.Grouping]) -> TokensReport {
            var report = TokensReport(groupings: keys, window: window, weekStart: weekStart, pricing: pricing, projects: projects)
            report.sources = sources
            return report
        }
        func tokens(_ keys: [TokensReport.Grouping]) throws -> QueryTable { try store.tokens(report(keys)) }
        let days = try tokens([.day])
        let time: TokensReport.Grouping = Self.spanInDays(days) > Self.dailyLimit ? .week : .day
        let overTime = time == .day ? days : try tokens([.week])
        let byTimeAndProject = try tokens([time, .project])
        let byProject = try tokens([.project])
        let byIndex = try tokens([.index])
        // By source once the archive holds more than one.
        let bySource = try store.sources().filter { $0.sessions > 0 }.count > 1 ? try tokens([.source]) : nil
        var costliest = report([.session])
        costliest.top = (20, pricing != nil)
        let bySession = try store.tokens(costliest)
        var toolsReport = ToolsReport(window: window, projects: projects)
        toolsReport.sources = sources
        let tools = try store.tools(toolsReport)
        // Cost when every run with tokens has a price, else tokens.
        let priced = byProject.totals.map { Self.number($0, byProject, "cost_usd") != nil } ?? false
        let measure = priced ? "cost_usd" : "total_tokens"
        let unit = priced ? "spend (USD)" : "tokens"

        var html = Self.head(title: "LlamaCloud archive report")
        html += "<h1>LlamaCloud chat archive</h1>\n<p class=\"meta\">\(Self.escape(subject)) · \(Self.escape(windowText)) · generated \(Self.escape(generatedAt))"
        if !projects.isEmpty { html += " · projects: \(Self.escape(projects.joined(separator: ", ")))" }
        if !sources.isEmpty { html += " · sources: \(Self.escape(sources.joined(separator: ", ")))" }
        html += "</p>\n"
        html += Self.summary(overTime, priced: priced, pricingHints: pricingHints)
        html += "<h2>\(priced ? "Spend" : "Tokens") over time, by project (\(time == .day ? "days" : "weeks"))</h2>\n"
        html += Self.stackedBars(byTimeAndProject, time: time.columnName, measure: measure, unit: unit, buckets: overTime)
        if let bySource {
            html += "<h2>\(priced ? "Spend" : "Tokens") by source</h2>\n" + Self.barTable(bySource, key: "source", measure: measure, unit: unit)
        }
        html += "<h2>\(priced ? "Spend" : "Tokens") by project</h2>\n" + Self.barTable(byProject, key: "project_id", measure: measure, unit: unit)
        html += "<h2>\(priced ? "Spend" : "Tokens") by index</h2>\n" + Self.barTable(byIndex, key: "index_id", measure: measure, unit: unit)
        if let note = byIndex.note { html += "<p class=\"note\">\(Self.escape(note))</p>\n" }
        html += "<h2>The 20 costliest sessions</h2>\n" + Self.costliest(bySession, measure: measure)
        html += "<h2>Tool calls</h2>\n" + Self.toolTable(tools)
        html += "<h2>Error runs over time</h2>\n"
        html += Self.stackedBars(overTime, time: time.columnName, measure: "error_runs", unit: "error runs", buckets: overTime, single: true)
        html += "<h2>Prices used</h2>\n" + priceTable
        html += "</body>\n</html>\n"
        return Page(html: html, warnings: byProject.warnings)
    }

    var windowText: String {
        let span: String
        switch (window.since, window.until) {
        case (nil, nil): span = "all time"
        case (let since?, nil): span = "from \(since)"
        case (nil, let until?): span = "until \(until)"
        case (let since?, let until?): span = "from \(since) until \(until)"
        }
        return span + " (\(window.zone.identifier))"
    }

    // MARK: Pieces

    static func head(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 2em auto; max-width: 980px; padding: 0 1em; }
        h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
        .meta, .note { color: #666; } td code { white-space: nowrap; } table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .bar { display: inline-block; height: 10px; background: #4e79a7; vertical-align: middle; }
        .cards { display: flex; gap: 1em; flex-wrap: wrap; } .card { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 9em; }
        .card b { display: block; font-size: 1.4em; } .legend span { margin-right: 1em; white-space: nowrap; }
        .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
        svg { width: 100%; height: auto; } svg text { font: 11px system-ui, sans-serif; fill: #555; }
        </style>
        </head>
        <body>

        """
    }

    static func summary(_ table: QueryTable, priced: Bool, pricingHints: [String]) -> String {
        guard let totals = table.totals else { return "" }
        var cards: [(String, String)] = [
            ("sessions", grouped(number(totals, table, "sessions"))), ("runs", grouped(number(totals, table, "runs"))),
            ("error runs", grouped(number(totals, table, "error_runs"))), ("input tokens", grouped(number(totals, table, "input_tokens"))),
            ("output tokens", grouped(number(totals, table, "output_tokens"))),
        ]
        if priced { cards.append(("spend (USD)", money(number(totals, table, "cost_usd") ?? 0))) }
        var html = "<div class=\"cards\">" + cards.map { "<div class=\"card\"><b>\($0.1)</b>\($0.0)</div>" }.joined()
        if !priced {
            let ways = pricingHints.map { "<code>\(Self.escape($0))</code>" }
            html += "<div class=\"card note\">No prices: spend is not shown."
                + (ways.isEmpty ? "" : " Add " + ways.dropLast().joined(separator: ", ") + (ways.count > 1 ? " or " : "") + ways.last!) + "</div>"
        }
        return html + "</div>\n"
    }

    /// One column per time bucket, stacked by project (or one series): each
    /// bucket a `<g class="bucket">` whose `data-total` is its whole value.
    static func stackedBars(_ table: QueryTable, time: String, measure: String, unit: String, buckets: QueryTable,
                            single: Bool = false) -> String {
        let keys = buckets.rows.compactMap { text($0, buckets, time) }
        var values: [String: [(series: ExactText, value: Double)]] = [:]  // our own names: time labels
        var seriesTotals: [ExactText: Double] = [:]
        for row in table.rows {
            guard let key = text(row, table, time) else { continue }
            let series = ExactText(single ? unit : (text(row, table, "project_id") ?? ""))
            let value = number(row, table, measure) ?? 0
            values[key, default: []].append((series, value))
            seriesTotals[series, default: 0] += value
        }
        let series = seriesTotals.keys.sorted { (seriesTotals[$0]!, $1) > (seriesTotals[$1]!, $0) }
        let color = Dictionary(uniqueKeysWithValues: series.enumerated().map { ($1, single ? "#e15759" : palette[$0 % palette.count]) })
        let largest = keys.map { key in values[key, default: []].reduce(0) { $0 + $1.value } }.max() ?? 0
        let width = 900.0, height = 220.0, left = 60.0, bottom = 24.0
        let step = keys.isEmpty ? 0 : (width - left) / Double(keys.count)
        var svg = "<svg class=\"chart\" data-measure=\"\(measure)\" viewBox=\"0 0 \(Int(width)) \(Int(height + bottom))\" role=\"img\" "
            + "aria-label=\"\(escape(unit)) by \(time)\">\n"
        svg += "<text x=\"0\" y=\"12\">\(escape(largest > 0 ? axis(largest, money: measure == "cost_usd") : "0"))</text>"
            + "<line x1=\"\(Int(left))\" y1=\"\(Int(height))\" x2=\"\(Int(width))\" y2=\"\(Int(height))\" stroke=\"#999\"/>\n"
        for (index, key) in keys.enumerated() {
            let parts = values[key, default: []].sorted { series.firstIndex(of: $0.series)! < series.firstIndex(of: $1.series)! }
            let total = parts.reduce(0) { $0 + $1.value }
            var y = height
            svg += "<g class=\"bucket\" data-key=\"\(escape(key))\" data-total=\"\(total)\">"
            for part in parts where part.value > 0 && largest > 0 {
                let h = part.value / largest * (height - 16)
                y -= h
                svg += "<rect x=\"\(format(left + Double(index) * step + step * 0.1))\" y=\"\(format(y))\" width=\"\(format(max(step * 0.8, 0.5)))\" "
                    + "height=\"\(format(h))\" fill=\"\(color[part.series]!)\"><title>\(escape(key)) \(escape(part.series.text.isEmpty ? "(default)" : part.series.text)): "
                    + "\(escape(measure == "cost_usd" ? money(part.value) : grouped(part.value)))</title></rect>"
            }
            svg += "</g>\n"
        }
        let labelEvery = max(1, keys.count / 8)
        for (index, key) in keys.enumerated() where index % labelEvery == 0 {
            svg += "<text x=\"\(format(left + Double(index) * step))\" y=\"\(Int(height + 16))\">\(escape(key))</text>"
        }
        svg += "\n</svg>\n"
        if !single && !series.isEmpty {
            svg += "<p class=\"legend\">" + series.map { name in
                "<span><i style=\"background:\(color[name]!)\"></i>\(escape(name.text.isEmpty ? "(default)" : name.text))</span>"
            }.joined() + "</p>\n"
        }
        return keys.isEmpty ? "<p class=\"note\">No runs in this window.</p>\n" : svg
    }

    /// A table with a bar per row.
    static func barTable(_ table: QueryTable, key: String, measure: String, unit: String) -> String {
        let largest = table.rows.compactMap { number($0, table, measure) }.max() ?? 0
        let spend = measure == "cost_usd"  // else the bar is the tokens column's, shown once
        var html = "<table><tr><th>\(escape(key.replacingOccurrences(of: "_id", with: "")))</th><th class=\"n\">sessions</th>"
            + "<th class=\"n\">runs</th><th class=\"n\">tokens</th>\(spend ? "<th class=\"n\">\(escape(unit))</th>" : "")<th></th></tr>\n"
        for row in table.rows {
            let value = number(row, table, measure) ?? 0
            html += "<tr><td>\(escape(text(row, table, key) ?? ""))</td><td class=\"n\">\(grouped(number(row, table, "sessions")))</td>"
                + "<td class=\"n\">\(grouped(number(row, table, "runs")))</td><td class=\"n\">\(grouped(number(row, table, "total_tokens")))</td>"
                + (spend ? "<td class=\"n\">\(money(value))</td>" : "")
                + "<td><span class=\"bar\" style=\"width:\(largest > 0 ? Int(value / largest * 240) : 0)px\"></span></td></tr>\n"
        }
        return html + "</table>\n"
    }

    static func costliest(_ table: QueryTable, measure: String) -> String {
        let top = table.rows
        let spend = measure == "cost_usd"  // without prices, no column of dashes
        var html = "<table><tr><th>session</th><th>title</th><th>project</th><th class=\"n\">runs</th><th class=\"n\">tokens</th>"
            + (spend ? "<th class=\"n\">cost (USD)</th>" : "") + "</tr>\n"
        for row in top {
            let cost = number(row, table, "cost_usd")
            html += "<tr><td><code>\(escape(text(row, table, "session") ?? ""))</code></td><td>\(escape(text(row, table, "title") ?? ""))</td>"
                + "<td>\(escape(text(row, table, "project_id") ?? "(default)"))</td><td class=\"n\">\(grouped(number(row, table, "runs")))</td>"
                + "<td class=\"n\">\(grouped(number(row, table, "total_tokens")))</td>"
                + (spend ? "<td class=\"n\">\(cost.map(money) ?? "—")</td>" : "") + "</tr>\n"
        }
        return html + "</table>\n"
    }

    static func toolTable(_ table: QueryTable) -> String {
        var html = "<table><tr><th>tool</th><th class=\"n\">calls</th><th class=\"n\">no result</th><th class=\"n\">errors</th>"
            + "<th class=\"n\">failure rate</th><th class=\"n\">share of runs</th></tr>\n"
        for row in table.rows {
            let calls = number(row, table, "calls") ?? 0
            let failed = (number(row, table, "no_result") ?? 0) + (number(row, table, "error_results") ?? 0)
            html += "<tr><td>\(escape(text(row, table, "name") ?? ""))</td><td class=\"n\">\(grouped(calls))</td>"
                + "<td class=\"n\">\(grouped(number(row, table, "no_result")))</td><td class=\"n\">\(grouped(number(row, table, "error_results")))</td>"
                + "<td class=\"n\">\(calls > 0 ? String(format: "%.1f%%", failed / calls * 100) : "—")</td>"
                + "<td class=\"n\">\(number(row, table, "share_of_runs").map { String(format: "%.1f%%", $0 * 100) } ?? "—")</td></tr>\n"
        }
        if table.rows.isEmpty { html += "<tr><td colspan=\"6\" class=\"note\">No tool calls in this window.</td></tr>\n" }
        return html + "</table>\n"
    }

    var priceTable: String {
        guard let pricing else { return "<p class=\"note\">No prices given: figures are tokens, and spend is unknown.</p>\n" }
        var html = "<table><tr><th>from</th><th>project</th><th class=\"n\">input (USD per million)</th><th class=\"n\">output (USD per million)</th></tr>\n"
        for (rate, _) in pricing.latestFirst(in: window.zone).reversed() {
            html += "<tr><td>\(Self.escape(rate.from?.description ?? "always"))</td><td>\(Self.escape(rate.project ?? "any other"))</td>"
                + "<td class=\"n\">\(Self.format(rate.input))</td><td class=\"n\">\(Self.format(rate.output))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    // MARK: Cells and text

    static func spanInDays(_ days: QueryTable) -> Int {
        let keys = days.rows.compactMap { text($0, days, "day") }.compactMap(TimeWindow.dateOnly)
        guard let first = keys.first, let last = keys.last else { return 0 }
        return Timestamp.daysFromCivil(year: last.0, month: last.1, day: last.2) - Timestamp.daysFromCivil(year: first.0, month: first.1, day: first.2) + 1
    }

    static func number(_ row: [QueryTable.Cell], _ table: QueryTable, _ column: String) -> Double? {
        guard let index = table.columns.firstIndex(where: { $0.name == column }), index < row.count else { return nil }
        switch row[index] {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }

    static func text(_ row: [QueryTable.Cell], _ table: QueryTable, _ column: String) -> String? {
        guard let index = table.columns.firstIndex(where: { $0.name == column }), index < row.count,
              case .text(let value) = row[index] else { return nil }
        return value
    }

    static func grouped(_ value: Double?) -> String {
        guard let value else { return "—" }
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        formatter.locale = Locale(identifier: "en_US")
        return formatter.string(from: NSNumber(value: value)) ?? String(Int(value))
    }

    static func money(_ value: Double) -> String { String(format: "$%.2f", value) }
    static func axis(_ value: Double, money isMoney: Bool) -> String { isMoney ? money(value) : grouped(value) }
    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    /// Text for HTML: markup characters escaped, control characters (which no
    /// page should carry) replaced.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
