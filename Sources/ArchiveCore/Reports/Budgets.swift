import Foundation
import LosslessJSON
import SQLiteCore

/// A spending limit over a day, week (from Monday) or month of the
/// configured zone, for every session or those of some projects or indexes.
public struct Budget: Sendable, Equatable {
    public enum Period: String, Sendable, CaseIterable { case day, week, month }

    public var name: String
    public var period: Period
    /// In the prices' currency.
    public var limit: Double
    /// Shares of the limit that alert once per period when reached, ascending.
    public var thresholds: [Double] = [0.8, 1.0]
    /// Only sessions of these sources, by name (empty: all).
    public var sources: [String] = []
    /// Only sessions of these projects (empty: all).
    public var projects: [String] = []
    /// Only sessions bound to one of these indexes (empty: all).
    public var indexes: [String] = []
    /// Run with the budget's status as JSON on its standard input when a threshold is reached.
    public var notifyCommand: String?
    /// How long `notifyCommand` may run before it and its children are killed
    /// (the alert is then tried again at the next sync).
    public var notifyTimeoutSeconds = 30.0

    public init(name: String, period: Period, limit: Double) {
        self.name = name
        self.period = period
        self.limit = limit
    }
}

/// Where a budget stands in its current period.
public struct BudgetStatus: Sendable, Equatable {
    public let budget: Budget
    /// The period, UTC, as the archive writes times; the end excluded.
    public let periodStart: String
    public let periodEnd: String
    /// Spend of the runs with a price so far in the period.
    public let spend: Double
    /// Runs with tokens but no price: not in `spend`.
    public let unpricedRuns: Int
    /// Straight-line to the end of the period from the period so far.
    public let forecast: Double
    /// Thresholds reached, and those of them already alerted in this period.
    public let reached: [Double]
    public let alerted: [Double]

    public var share: Double { budget.limit > 0 ? spend / budget.limit : 0 }
    public var isOver: Bool { spend >= budget.limit }
    /// Thresholds reached for the first time in this period.
    public var newlyReached: [Double] { reached.filter { threshold in !alerted.contains(threshold) } }

    /// The status as one JSON object (what `notify_command` reads).
    public var json: JSONValue {
        var object = JSONObject()
        object["budget"] = .string(budget.name)
        object["period"] = .string(budget.period.rawValue)
        object["period_start"] = .string(periodStart)
        object["period_end"] = .string(periodEnd)
        object["limit"] = .number(JSONNumber(budget.limit))
        object["spend"] = .number(JSONNumber(spend))
        object["share"] = .number(JSONNumber(share))
        object["forecast"] = .number(JSONNumber(forecast))
        object["unpriced_runs"] = .number(JSONNumber(unpricedRuns))
        object["thresholds_reached"] = .array(reached.map { .number(JSONNumber($0)) })
        object["sources"] = .array(budget.sources.map(JSONValue.string))
        object["projects"] = .array(budget.projects.map(JSONValue.string))
        object["indexes"] = .array(budget.indexes.map(JSONValue.string))
        return .object(object)
    }
}

extension ArchiveReader {
    /// Each budget's spend, share and forecast in the period holding `now`
    /// in `zone`, from the rollup levels, and the alerts already recorded.
    public func budgetStatuses(_ budgets: [Budget], pricing: Pricing, zone: TimeZone, now: Date = Date()) throws -> [BudgetStatus] {
        try database.readTransaction { try budgets.map { budget in
            let (start, end) = Self.period(budget.period, holding: now, zone: zone)
            var report = TokensReport(groupings: [.project],
                                      window: try TimeWindow(since: Timestamp.format(date: start), until: Timestamp.format(date: end), zone: zone.identifier),
                                      pricing: pricing, projects: budget.projects)
            report.indexes = budget.indexes
            report.sources = budget.sources
            let totals = try report.gather(database).totals
            let elapsed = now.timeIntervalSince(start), length = end.timeIntervalSince(start)
            let forecast = elapsed > 0 ? totals.cost * length / elapsed : totals.cost
            let periodStart = Timestamp.format(date: start)
            let alerted = try alertedBudgetThresholds(budget: budget.name, periodStart: periodStart)
            return BudgetStatus(budget: budget, periodStart: periodStart, periodEnd: Timestamp.format(date: end), spend: totals.cost,
                                unpricedRuns: totals.unpricedRuns, forecast: forecast,
                                reached: budget.thresholds.filter { totals.cost >= $0 * budget.limit }, alerted: alerted)
        } }
    }

    /// The day, week (from Monday) or month of `zone` that holds `now`.
    static func period(_ period: Budget.Period, holding now: Date, zone: TimeZone) -> (start: Date, end: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        calendar.firstWeekday = 2
        let component: Calendar.Component = switch period {
        case .day: .day
        case .week: .weekOfYear
        case .month: .month
        }
        let interval = calendar.dateInterval(of: component, for: now) ?? DateInterval(start: now, duration: 86_400)
        return (interval.start, interval.end)
    }
}
