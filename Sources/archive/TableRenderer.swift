import ArchiveCore
import LosslessJSON
import Foundation

/// Renders a `QueryTable` as an aligned table, JSON or CSV.
struct TableRenderer {
    var terminal = Terminal.standardOutput
    var zone = TimeZone.current

    func render(_ table: QueryTable, as format: OutputFormat) {
        switch format {
        case .table: terminal.write(text(table))
        case .json: terminal.writeLine(json(table))
        case .csv: terminal.write(csv(table))
        }
    }

    // MARK: JSON

    func json(_ table: QueryTable) -> String {
        func object(_ cells: [QueryTable.Cell]) -> String {
            "{" + zip(table.columns, cells).map { "\(jsonString($0.name)):\(jsonValue($1))" }.joined(separator: ",") + "}"
        }
        let rows = "[" + table.rows.map(object).joined(separator: ",") + "]"
        guard let totals = table.totals else { return rows }
        return "{\"rows\":\(rows),\"totals\":\(object(totals))}"
    }

    private func jsonValue(_ cell: QueryTable.Cell) -> String {
        switch cell {
        case .null: return "null"
        case .integer(let value): return String(value)
        case .number(let value): return value.isFinite ? Self.decimal(value) : "null"
        case .text(let value): return jsonString(value)
        case .bool(let value): return value ? "true" : "false"
        }
    }

    private func jsonString(_ text: String) -> String {
        var writer = JSONWriter(reservingCapacity: text.utf8.count + 2)
        writer.writeString(text)
        return writer.string
    }

    // MARK: CSV (RFC 4180: CRLF line ends, fields quoted when they need it)

    func csv(_ table: QueryTable) -> String {
        var out = table.columns.map { csvField($0.name) }.joined(separator: ",") + "\r\n"
        for row in table.rows {
            out += row.map { cell -> String in
                switch cell {
                case .null: return ""
                case .integer(let value): return String(value)
                case .number(let value): return value.isFinite ? Self.decimal(value) : ""
                case .text(let value): return csvField(terminal.isInteractive ? value.terminalSafe : value)
                case .bool(let value): return value ? "true" : "false"
                }
            }.joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// A number for JSON and CSV: at most 6 decimals (costs in USD, shares),
    /// so that 3.609507000000001 prints as 3.609507.
    static func decimal(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    private func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: Table

    func text(_ table: QueryTable) -> String {
        var columns = Array(table.columns.indices)
        let body = table.rows.map { row in row.enumerated().map { display($1, table.columns[$0]) } }
        let totals = table.totals.map { row in row.enumerated().map { display($1, table.columns[$0]) } }
        var widths = table.columns.indices.map { index in
            ([table.columns[index].title] + body.map { $0[index] } + (totals.map { [$0[index]] } ?? []))
                .map(\.displayWidth).max() ?? 0
        }
        if terminal.isInteractive {
            let available = terminal.width
            func total() -> Int { columns.map { widths[$0] }.reduce(0, +) + 2 * max(0, columns.count - 1) }
            while total() > available, let drop = columns.last(where: { table.columns[$0].optional }) {
                columns.removeAll { $0 == drop }
            }
            while total() > available {
                guard let widest = columns.filter({ table.columns[$0].kind == .text && widths[$0] > 8 })
                    .max(by: { widths[$0] < widths[$1] }) else { break }
                widths[widest] = max(8, widths[widest] - (total() - available))
            }
        }
        func line(_ cells: [String], style: (String) -> String = { $0 }) -> String {
            columns.enumerated().map { position, index in
                let column = table.columns[index]
                let cell = cells[index].truncated(to: widths[index])
                let padding = String(repeating: " ", count: max(0, widths[index] - cell.displayWidth))
                let isLast = position == columns.count - 1
                let shown = HighlightMarks.render(cell, color: terminal.usesColor)
                return column.alignsRight ? padding + shown : shown + (isLast ? "" : padding)
            }.joined(separator: "  ").styled(style)
        }
        var out = line(table.columns.map(\.title), style: terminal.bold) + "\n"
        for row in body { out += line(row) + "\n" }
        if let totals { out += line(totals, style: terminal.bold) + "\n" }
        if let note = table.note { out += terminal.dim(note) + "\n" }
        if table.rows.isEmpty { out += terminal.dim("(no rows)") + "\n" }
        return out
    }

    private func display(_ cell: QueryTable.Cell, _ column: QueryTable.Column) -> String {
        switch cell {
        case .null: return column.kind == .money ? "—" : ""
        case .integer(let value): return grouped(Int(value))
        case .number(let value):
            if column.kind == .money { return String(format: "$%.2f", value) }
            if column.name.hasPrefix("share") { return String(format: "%.1f%%", value * 100) }
            return String(format: "%.2f", value)
        case .bool(let value): return value ? "yes" : ""
        case .text(let value):
            if column.kind == .time, let date = Timestamp.date(fromNormalized: value) { return localTime(date) }
            return value.oneLineSafe
        }
    }

    private func localTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}

extension String {
    /// Columns on a terminal: East Asian wide characters and emoji take two.
    var displayWidth: Int {
        var width = 0
        for character in self {
            guard let scalar = character.unicodeScalars.first, scalar != "\u{E000}", scalar != "\u{E001}" else { continue }
            if character.unicodeScalars.contains(where: { $0.properties.isEmojiPresentation || $0.value == 0xFE0F }) {
                width += 2
            } else if (0x1100...0x115F).contains(scalar.value) || (0x2E80...0xA4CF).contains(scalar.value)
                        || (0xAC00...0xD7A3).contains(scalar.value) || (0xF900...0xFAFF).contains(scalar.value)
                        || (0xFF00...0xFF60).contains(scalar.value) || (0x20000...0x3FFFD).contains(scalar.value) {
                width += 2
            } else if scalar.value >= 0x20 {
                width += 1
            }
        }
        return width
    }

    func truncated(to width: Int) -> String {
        guard displayWidth > width else { return self }
        var out = ""
        var used = 0
        for character in self {
            let next = String(character).displayWidth
            if used + next > width - 1 { break }
            out.append(character)
            used += next
        }
        return out + "…"
    }

    func styled(_ style: (String) -> String) -> String { style(self) }
}
