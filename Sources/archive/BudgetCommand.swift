import ArgumentParser
import ArchiveCore
import Foundation
import LosslessJSON

/// `archive budget`: each `[[budgets]]` entry's spend, share and forecast in its current period.
struct BudgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Show each budget of the config file: spend so far in its period, share of the limit, and a straight-line forecast.",
        discussion: helpText("Exit codes: 0 shown; 3 with --fail-on-budget when a budget is over; 64 no budgets or prices in the config file.", examples:
            "archive budget",
            "archive budget --fail-on-budget   # from cron: exits 3 once a budget is over its limit"))

    @OptionGroup var location: ArchiveLocationOptions
    @Flag(help: "Print the budgets as one JSON array.") var json = false
    @Flag(help: "Exit 3 when a budget is over its limit.") var failOnBudget = false

    func run() throws {
        let archive = location.archive()
        let settings = archive.settings, zone = archive.settings.timeZone
        guard !settings.budgets.isEmpty, let pricing = settings.pricing else {
            throw fail("no [[budgets]] in \(ArchiveConfig.path()) (see docs/budgets.md)", code: ExitStatus.usage)
        }
        try archive.reading(allowEmpty: true) { store in
            let statuses = try store.budgetStatuses(settings.budgets, pricing: pricing, zone: zone)
            if json {
                Terminal.standardOutput.writeLine(JSONValue.array(statuses.map(\.json)).serialized)
            } else {
                for status in statuses { Terminal.standardOutput.writeLine(Self.line(status, zone: zone)) }
            }
            if failOnBudget, statuses.contains(where: \.isOver) { throw ExitError.exit(ExitStatus.overBudget) }
        }
    }

    static func line(_ status: BudgetStatus, zone: TimeZone) -> String {
        let budget = status.budget
        var text = "\(budget.name.oneLineSafe): \(money(status.spend)) of \(money(budget.limit)) (\(percent(status.share))) "
            + "this \(budget.period.rawValue) from \(localDay(status.periodStart, zone: zone)), forecast \(money(status.forecast))"
        if status.unpricedRuns > 0 { text += "; \(status.unpricedRuns) runs without a price not counted" }
        return text
    }

    static func money(_ value: Double) -> String { String(format: "%.2f", value) }
    static func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }

    static func localDay(_ utc: String, zone: TimeZone) -> String {
        guard let micros = Timestamp.microseconds(fromISO8601: utc) else { return utc }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = zone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
    }
}
