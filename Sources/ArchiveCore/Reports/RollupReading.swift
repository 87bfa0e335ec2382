/// What a report reads where its window starts and ends on quarter hours:
/// the rollup levels (the default), or, for tests that hold the three to
/// each other, the quarter-hour rollups or the rows themselves.
enum RollupReading: CaseIterable {
    case levels, quarterHours, rows
}
