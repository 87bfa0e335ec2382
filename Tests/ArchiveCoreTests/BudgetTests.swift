import Foundation
import LosslessJSON
import Testing
import TestSupport
@_spi(Testing) @testable import ArchiveCore

/// Budgets: spend in the period of the configured zone that holds "now"
/// (local midnights at +5:45 and +13:45 too), thresholds that alert once per
/// period, scopes by project and by index.
@Suite struct BudgetTests {
    static let pricing = Pricing(rates: [.init(from: nil, project: nil, input: 1, output: 1)])  // 1 per million tokens

    /// A session of one run of `tokens` tokens (input), at `time`.
    func save(_ store: ArchiveWriter, _ id: String, at time: String, tokens: Int, project: String? = "p1", indexes: String = "null") throws {
        let text = UsageRollupTests.session(id, updated: time, runs: [(tokens, 0)], indexes: indexes)
        try store.save(Normalizer.normalize(body: Array(text.utf8)), projectID: project, organizationID: nil, syncedAt: "x")
    }

    func record(_ status: BudgetStatus, in store: ArchiveWriter) throws {
        try store.recordBudgetAlerts(budget: status.budget.name, periodStart: status.periodStart, thresholds: status.newlyReached,
                                     spend: status.spend, limit: status.budget.limit, at: "x")
    }

    func date(_ text: String) throws -> Date {
        Date(timeIntervalSince1970: Double(try #require(Timestamp.microseconds(fromISO8601: text))) / 1_000_000)
    }

    @Test(arguments: ["Asia/Kathmandu", "Pacific/Chatham"])
    func aMonthlyBudgetCountsTheLocalMonthAndAlertsEachThresholdOncePerPeriod(_ zoneName: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        let folder = try TemporaryDirectory()
        let store = try folder.writer(at: folder.path("a.db"))
        // Local midnight of 1 March: the month's first instant, in UTC.
        let march = TimeWindow.localMidnight(days: Timestamp.daysFromCivil(year: 2026, month: 3, day: 1), zone: zone)
        func utc(_ offset: TimeInterval) -> String { Timestamp.format(date: march.addingTimeInterval(offset)) }
        try save(store, "before", at: utc(-1), tokens: 5_000_000)          // the last second of February, locally
        try save(store, "first", at: utc(0), tokens: 700_000)              // the first instant of March
        try save(store, "other", at: utc(3_600), tokens: 900_000, project: "p2")
        var budget = Budget(name: "team", period: .month, limit: 2)
        budget.thresholds = [0.5, 0.8, 1.0]
        let now = march.addingTimeInterval(10 * 86_400)
        var status = try #require(try store.reader.budgetStatuses([budget], pricing: Self.pricing, zone: zone, now: now).first)
        #expect(status.periodStart == Timestamp.format(date: march))
        #expect(abs(status.spend - 1.6) < 1e-9)
        #expect(status.newlyReached == [0.5, 0.8])
        // Straight-line: 1.6 in the first 10 of March's 31 days.
        #expect(abs(status.forecast - 1.6 * 31 / 10) < 1e-9)
        try record(status, in: store)
        status = try #require(try store.reader.budgetStatuses([budget], pricing: Self.pricing, zone: zone, now: now).first)
        #expect(status.newlyReached.isEmpty && !status.isOver)
        try save(store, "more", at: utc(5 * 86_400), tokens: 500_000)
        status = try #require(try store.reader.budgetStatuses([budget], pricing: Self.pricing, zone: zone, now: now).first)
        #expect(status.newlyReached == [1.0] && status.isOver)
        try record(status, in: store)
        #expect(try store.reader.budgetStatuses([budget], pricing: Self.pricing, zone: zone, now: now).first?.newlyReached == [])
        // The next month starts afresh: nothing spent, nothing alerted; then its own alerts.
        let april = TimeWindow.localMidnight(days: Timestamp.daysFromCivil(year: 2026, month: 4, day: 1), zone: zone)
        status = try #require(try store.reader.budgetStatuses([budget], pricing: Self.pricing, zone: zone, now: april.addingTimeInterval(60)).first)
        #expect(status.spend == 0 && status.reached.isEmpty && status.periodStart == Timestamp.format(date: april))
        try save(store, "april", at: Timestamp.format(date: april.addingTimeInterval(30)), tokens: 1_100_000)
        status = try #require(try store.reader.budgetStatuses([budget], pricing: Self.pricing, zone: zone, now: april.addingTimeInterval(60)).first)
        #expect(status.newlyReached == [0.5])
        // By project: only p2's run.
        budget.projects = ["p2"]
        status = try #require(try store.reader.budgetStatuses([budget], pricing: Self.pricing, zone: zone, now: now).first)
        #expect(abs(status.spend - 0.9) < 1e-9)
    }

    @Test func aDailyAndAWeeklyBudgetStartAtLocalMidnightAndMonday() throws {
        let zone = try #require(TimeZone(identifier: "Asia/Kathmandu"))
        // Wednesday 2026-03-04 at 00:30 in Kathmandu is 18:45 UTC the day before.
        let now = try date("2026-03-03T18:45:00Z")
        let day = ArchiveReader.period(.day, holding: now, zone: zone)
        #expect(Timestamp.format(date: day.start) == "2026-03-03T18:15:00.000000Z")
        #expect(day.end.timeIntervalSince(day.start) == 86_400)
        let week = ArchiveReader.period(.week, holding: now, zone: zone)
        #expect(Timestamp.format(date: week.start) == "2026-03-01T18:15:00.000000Z")  // Monday 2 March, local midnight
        #expect(week.end.timeIntervalSince(week.start) == 7 * 86_400)
    }

    @Test func anIndexBudgetCountsEachRunOnceWhateverItsIndexesAndComparesBytes() throws {
        let zone = try #require(TimeZone(identifier: "UTC"))
        let folder = try TemporaryDirectory()
        let store = try folder.writer(at: folder.path("a.db"))
        try save(store, "both", at: "2026-03-02T10:00:00Z", tokens: 1_000_000, indexes: #"["i1","caf\#u{E9}"]"#)
        try save(store, "one", at: "2026-03-02T11:00:00Z", tokens: 2_000_000, indexes: #"["i1"]"#)
        try save(store, "other", at: "2026-03-02T12:00:00Z", tokens: 4_000_000, indexes: #"["cafe\#u{301}"]"#)
        try save(store, "none", at: "2026-03-02T13:00:00Z", tokens: 8_000_000)
        var budget = Budget(name: "indexed", period: .day, limit: 100)
        budget.indexes = ["i1", "caf\u{E9}"]
        let now = try date("2026-03-02T20:00:00Z")
        let status = try #require(try store.reader.budgetStatuses([budget], pricing: Self.pricing, zone: zone, now: now).first)
        #expect(abs(status.spend - 3) < 1e-9)
        // The same from the rows.
        var report = TokensReport(groupings: [.project], window: try TimeWindow(since: "2026-03-02", until: "2026-03-02", zone: "UTC"), pricing: Self.pricing)
        report.indexes = budget.indexes
        for reading in RollupReading.allCases {
            report.reading = reading
            #expect(abs(try report.gather(store.database).totals.cost - 3) < 1e-9, "\(reading)")
        }
    }

    @Test func theConfigFileDescribesBudgetsAndRefusesBadOnesAtTheirLine() throws {
        let good = """
            [[rates]]
            input = 3.0
            output = 15.0

            [[budgets]]
            name = "research"
            period = "month"
            limit = 250
            thresholds = [1.0, 0.8]
            projects = ["proj-research"]
            notify_command = "cat > /dev/null"
            """
        let config = try ArchiveConfig.parse(Array(good.utf8), path: "c.toml")
        #expect(config.budgets.count == 1)
        #expect(config.budgets.first?.thresholds == [0.8, 1.0] && config.budgets.first?.limit == 250)
        let cases: [(String, String)] = [
            ("[[budgets]]\nname = \"a\"\nperiod = \"month\"\nlimit = 1", "c.toml:1: [[budgets]] are in the prices' currency"),
            ("[[rates]]\ninput = 1\noutput = 1\n[[budgets]]\nname = \"a\"\nperiod = \"year\"\nlimit = 1", "c.toml:6: "),
            ("[[rates]]\ninput = 1\noutput = 1\n[[budgets]]\nname = \"a\"\nperiod = \"day\"\nlimit = -1", "c.toml:7: "),
            ("[[rates]]\ninput = 1\noutput = 1\n[[budgets]]\nname = \"a\"\nperiod = \"day\"\nlimit = 1\nthresholds = [0]", "c.toml:8: "),
            ("[[rates]]\ninput = 1\noutput = 1\n[[budgets]]\nname = \"a\"\nperiod = \"day\"\nlimit = 1\nwebhook_token = \"x\"", "c.toml:8: "),
        ]
        for (text, start) in cases {
            #expect(throws: SettingsFileError.self) { try ArchiveConfig.parse(Array(text.utf8), path: "c.toml") }
            do { _ = try ArchiveConfig.parse(Array(text.utf8), path: "c.toml") } catch {
                #expect("\(error)".hasPrefix(start), "\(error)")
            }
        }
    }
}
