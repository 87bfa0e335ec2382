/// `budget_alerts` (Migrations/0015): the thresholds a budget reached and
/// alerted in a period, so that they are alerted once.
extension ArchiveWriter {
    public func recordBudgetAlerts(budget: String, periodStart: String, thresholds: [Double], spend: Double, limit: Double,
                                   at now: String) throws {
        try atomically {
            for threshold in thresholds {
                try database.cached("""
                    INSERT OR IGNORE INTO budget_alerts(budget, period_start, threshold, spend, limit_amount, alerted_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """).execute([budget, periodStart, threshold, spend, limit, now])
            }
        }
    }
}

extension ArchiveReader {
    /// The thresholds of a budget already alerted in the period starting at `periodStart`.
    public func alertedBudgetThresholds(budget: String, periodStart: String) throws -> [Double] {
        var thresholds: [Double] = []
        try database.forEachRow("SELECT threshold FROM budget_alerts WHERE budget = ?1 AND period_start = ?2", budget, periodStart) {
            thresholds.append(try $0.double(0))
        }
        return thresholds
    }
}
