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
        case .jsonl: for row in table.rows { terminal.writeLine(jsonObject(table.columns, row)) }
        }
    }

    // MARK: JSON

    func json(_ table: QueryTable) -> String {
        // The members' names escaped once, not once a row.
        let names = table.columns.map { jsonString($0.name) + ":" }
        func append(_ cells: [QueryTable.Cell], to text: inout String) {
            text += "{"
            for (index, cell) in cells.enumerated() where index < names.count {
                if index > 0 { text += "," }
                text += names[index]
                text += jsonValue(cell)
            }
            text += "}"
        }
        var text = table.totals == nil ? "[" : "{\"rows\":["
        text.reserveCapacity(table.rows.count * 160)
        for (index, row) in table.rows.enumerated() {
            if index > 0 { text += "," }
            append(row, to: &text)
        }
        text += "]"
        guard let totals = table.totals else { return text }
        text += ",\"totals\":"
        append(totals, to: &text)
        return text + "}"
    }

    func jsonValue(_ cell: QueryTable.Cell) -> String {
        switch cell {
        case .null: return "null"
        case .integer(let value): return String(value)
        case .number(let value): return value.isFinite ? Self.decimal(value) : "null"
        case .text(let value): return jsonString(value)
        case .bool(let value): return value ? "true" : "false"
        }
    }

    func jsonString(_ text: String) -> String {
        var writer = JSONWriter(reservingCapacity: text.utf8.count + 2)
        writer.writeString(text)
        return writer.string
    }

    // MARK: CSV (RFC 4180: CRLF line ends, fields quoted when they need it)

    func csv(_ table: QueryTable) -> String {
        var out = csvHeader(table.columns)
        for row in table.rows { out += csvRow(row) }
        return out
    }

    func csvHeader(_ columns: [QueryTable.Column]) -> String { columns.map { csvField($0.name) }.joined(separator: ",") + "\r\n" }

    func csvRow(_ row: [QueryTable.Cell]) -> String {
        row.map { cell -> String in
            switch cell {
            case .null: return ""
            case .integer(let value): return String(value)
            case .number(let value): return value.isFinite ? Self.decimal(value) : ""
            case .text(let value): return csvField(terminal.isInteractive ? value.terminalSafe : value)
            case .bool(let value): return value ? "true" : "false"
            }
        }.joined(separator: ",") + "\r\n"
    }

    /// One row as a JSON object (JSON lines, and the streamed array of `sql`).
    func jsonObject(_ columns: [QueryTable.Column], _ cells: [QueryTable.Cell]) -> String {
        "{" + zip(columns, cells).map { "\(jsonString($0.name)):\(jsonValue($1))" }.joined(separator: ",") + "}"
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

    /// Which columns a table shows and how wide, from the rows it has (a
    /// first window of them when streaming). Off a terminal a cell is cut at
    /// `maxCellWidth`; on one, the table fits the terminal's width.
    struct Layout {
        let columns: [QueryTable.Column]
        let shown: [Int]
        let widths: [Int]
    }

    static let maxCellWidth = 200

    func layout(_ table: QueryTable) -> Layout {
        let body = table.rows.map { row in row.enumerated().map { display($1, table.columns[$0]) } }
        let totals = table.totals.map { row in row.enumerated().map { display($1, table.columns[$0]) } }
        return layout(table, body: body, totals: totals)
    }

    /// The layout of cells already displayed as text.
    func layout(_ table: QueryTable, body: [[String]], totals: [String]?) -> Layout {
        var shown = table.columns.indices.filter { !table.columns[$0].forMachines }
        var widths = table.columns.indices.map { index in
            min(Self.maxCellWidth, ([table.columns[index].title] + body.map { $0[index] } + (totals.map { [$0[index]] } ?? []))
                .map(\.displayWidth).max() ?? 0)
        }
        if terminal.isInteractive {
            let available = terminal.width
            func total() -> Int { shown.map { widths[$0] }.reduce(0, +) + 2 * max(0, shown.count - 1) }
            while total() > available, let drop = shown.last(where: { table.columns[$0].optional }) {
                shown.removeAll { $0 == drop }
            }
            while total() > available {
                guard let widest = shown.filter({ table.columns[$0].kind == .text && !table.columns[$0].keepsWhole && widths[$0] > 8 })
                    .max(by: { widths[$0] < widths[$1] }) else { break }
                widths[widest] = max(8, widths[widest] - (total() - available))
            }
        }
        return Layout(columns: table.columns, shown: shown, widths: widths)
    }

    /// One line of a table: cells already displayed as text.
    func line(_ cells: [String], _ layout: Layout, color: Bool? = nil, style: (String) -> String = { $0 }) -> String {
        let color = color ?? terminal.usesColor
        var out = ""
        for (position, index) in layout.shown.enumerated() {
            let cell = cells[index].truncated(to: layout.widths[index])
            let padding = String(repeating: " ", count: max(0, layout.widths[index] - cell.displayWidth))
            let isLast = position == layout.shown.count - 1
            let shown = HighlightMarks.render(cell, color: color)
            if position > 0 { out += "  " }
            out += layout.columns[index].alignsRight ? padding + shown : shown + (isLast ? "" : padding)
        }
        return out.styled(style)
    }

    func headerLine(_ layout: Layout) -> String { line(layout.columns.map(\.title), layout, style: terminal.bold) }

    func rowLine(_ row: [QueryTable.Cell], _ layout: Layout, style: (String) -> String = { $0 }) -> String {
        line(row.enumerated().map { display($1, layout.columns[$0]) }, layout, style: style)
    }

    func totalsLine(_ totals: [QueryTable.Cell], _ layout: Layout) -> String { rowLine(totals, layout, style: terminal.bold) }

    func text(_ table: QueryTable) -> String {
        // Each cell displayed once, for the widths and for its line; colour asked once.
        let body = table.rows.map { row in row.enumerated().map { display($1, table.columns[$0]) } }
        let totalsText = table.totals.map { row in row.enumerated().map { display($1, table.columns[$0]) } }
        let layout = layout(table, body: body, totals: totalsText)
        let color = terminal.usesColor
        var out = headerLine(layout) + "\n"
        out.reserveCapacity(body.count * (layout.widths.reduce(0, +) + 2 * layout.widths.count + 1))
        for cells in body { out += line(cells, layout, color: color) + "\n" }
        if let totals = table.totals { out += totalsLine(totals, layout) + "\n" }
        if let note = table.note { out += terminal.dim(note) + "\n" }
        if table.rows.isEmpty { out += terminal.dim("(no rows)") + "\n" }
        return out
    }

    func display(_ cell: QueryTable.Cell, _ column: QueryTable.Column) -> String {
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
        // Printable ASCII, most cells: a column a byte.
        if utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return utf8.count }
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
