import ArchiveCore

/// `tokens --chart`: a bar per row in Unicode eighth blocks, scaled to cost
/// when every row has one, else to total tokens. Marked for colour, which
/// the renderer shows only on a terminal without NO_COLOR.
enum TokenChart {
    /// Bars of 24 cells, or 12 on a terminal narrower than 100 columns (a bar is never cut).
    static var width: Int { Terminal.standardOutput.isInteractive && Terminal.standardOutput.width < 100 ? 12 : 24 }
    static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

    static func adding(to table: QueryTable) -> QueryTable {
        guard let cost = table.columns.firstIndex(where: { $0.name == "cost_usd" }),
              let tokens = table.columns.firstIndex(where: { $0.name == "total_tokens" }) else { return table }
        let costs = table.rows.map { row -> Double? in if case .number(let value) = row[cost] { value } else { nil } }
        let values: [Double] = costs.allSatisfy({ $0 != nil }) && !costs.isEmpty
            ? costs.map { $0! }
            : table.rows.map { row in if case .integer(let value) = row[tokens] { Double(value) } else { 0 } }
        let largest = values.max() ?? 0
        var charted = table
        charted.columns.append(.init("chart", title: costs.allSatisfy({ $0 != nil }) ? "cost" : "tokens"))
        for (index, value) in values.enumerated() {
            charted.rows[index].append(.text(HighlightMarks.open + bar(value, of: largest) + HighlightMarks.close))
        }
        charted.totals?.append(.null)
        return charted
    }

    /// `value` as a bar of up to `width` cells, in eighths of a cell; any
    /// value above zero shows at least an eighth.
    static func bar(_ value: Double, of largest: Double) -> String {
        guard largest > 0, value > 0 else { return "" }
        let units = max(1, Int((value / largest * Double(width * 8)).rounded()))
        return String(repeating: "█", count: units / 8) + eighths[units % 8]
    }
}
