import ArgumentParser
import ArchiveCore
import Foundation
import LosslessJSON

/// `archive budget`: each `[[budgets]]` entry's spend, share and forecast in its current period.
struct BudgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Show each budget of the config file: spend so far in its period, share of the limit, and a straight-line forecast.",
        discussion: "Exit codes: 0 shown; 3 with --fail-on-budget when a budget is over; 64 no budgets or prices in the config file.")

    @OptionGroup var location: ArchiveLocationOptions
    @Flag(help: "Print the budgets as one JSON array.") var json = false
    @Flag(help: "Exit 3 when a budget is over its limit.") var failOnBudget = false

    func run() throws {
        let (budgets, pricing, zone) = try BudgetAlerts.settings()
        let store = try openArchiveForReading(location, allowEmpty: true)
        let statuses = try answer { try store.budgetStatuses(budgets, pricing: pricing, zone: zone) }
        if json {
            Terminal.standardOutput.writeLine(JSONValue.array(statuses.map(\.json)).serialized)
        } else {
            for status in statuses { Terminal.standardOutput.writeLine(BudgetAlerts.line(status, zone: zone)) }
        }
        if failOnBudget, statuses.contains(where: \.isOver) { throw ArchiveFailure.exit(ExitStatus.overBudget) }
    }
}

/// Budgets after a sync: a threshold reached for the first time in its
/// period is one line on standard error and a run of `notify_command`, then
/// recorded so that the next sync does not repeat it.
enum BudgetAlerts {
    /// The config file's budgets, prices and zone; exit 64 without them.
    static func settings() throws -> ([Budget], Pricing, TimeZone) {
        let config = CommandLineConfig.loaded
        guard !config.budgets.isEmpty, let pricing = config.pricing else {
            throw fail("no [[budgets]] in \(ArchiveConfig.path()) (see the README's Budgets)", code: ExitStatus.usage)
        }
        return (config.budgets, pricing, config.tz.flatMap(TimeZone.init(identifier:)) ?? .current)
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

    /// After a sync that kept something: alerts once per threshold and period.
    /// Another writer holding the archive skips this (its own sync alerts).
    /// A `notify_command` runs with no lock held and within its time limit:
    /// a command that never returns neither stops the next sync nor outlives
    /// its limit; an alert it did not deliver is tried again at the next sync.
    static func afterSync(path: String) throws -> [BudgetStatus] {
        let config = CommandLineConfig.loaded
        guard !config.budgets.isEmpty, let pricing = config.pricing else { return [] }
        let zone = config.tz.flatMap(TimeZone.init(identifier:)) ?? .current
        var toNotify: [BudgetStatus] = []
        guard let statuses = try underLock(path, { store in
            let statuses = try store.reader.budgetStatuses(config.budgets, pricing: pricing, zone: zone)
            for status in statuses where !status.newlyReached.isEmpty {
                Terminal.standardError.writeLine("archive: budget " + line(status, zone: zone)
                                                 + "; reached \(status.newlyReached.map(percent).joined(separator: ", "))")
                if status.budget.notifyCommand != nil { toNotify.append(status) } else { try record(status, in: store) }
            }
            return statuses
        }) else { return [] }
        let delivered = toNotify.filter { status in
            guard let command = status.budget.notifyCommand,
                  let failure = BoundedCommand.run(command, input: Array((status.json.serialized + "\n").utf8),
                                                   seconds: status.budget.notifyTimeoutSeconds).failure else { return true }
            Terminal.standardError.writeLine("archive: budget \(status.budget.name.oneLineSafe): notify_command \(failure); "
                                             + "the next sync tries again")
            return false
        }
        if !delivered.isEmpty {
            _ = try underLock(path) { store in try delivered.forEach { try record($0, in: store) } }
        }
        return statuses
    }

    /// `body` with the archive open for writing under the writers' lock; nil when another writer holds it.
    private static func underLock<T>(_ path: String, _ body: (ArchiveWriter) throws -> T) throws -> T? {
        guard let lock = try? ArchiveLock(archivePath: path) else { return nil }
        defer { withExtendedLifetime(lock) {} }
        let store = try ArchiveWriter(path: path, externalCheckpoints: CommandLineConfig.loaded.backup.externalCheckpoints)
        return try store.closing(after: body)
    }

    private static func record(_ status: BudgetStatus, in store: ArchiveWriter) throws {
        try store.recordBudgetAlerts(budget: status.budget.name, periodStart: status.periodStart, thresholds: status.newlyReached,
                                     spend: status.spend, limit: status.budget.limit, at: Timestamp.now())
    }
}
