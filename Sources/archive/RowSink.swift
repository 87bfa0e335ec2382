import ArchiveCore
import Foundation

/// Writes `sql`'s rows as SQLite steps them: CSV, JSON lines and a JSON array
/// go out row by row in flat memory; a table takes its columns' widths and
/// kinds from a first window of rows, then streams the rest in that layout.
struct RowSink {
    let format: OutputFormat
    let renderer: TableRenderer
    private var names: [String] = []
    private var columns: [QueryTable.Column] = []
    private var window: [[QueryTable.Cell]] = []
    private var layout: TableRenderer.Layout?
    private var rows = 0
    private var buffer = ""

    static let windowSize = 200

    init(format: OutputFormat, renderer: TableRenderer) {
        self.format = format
        self.renderer = renderer
    }

    mutating func begin(_ names: [String]) {
        self.names = names
        columns = names.map { QueryTable.Column($0, title: $0) }
        switch format {
        case .csv: emit(renderer.csvHeader(columns))
        case .json: emit("[")
        case .table, .jsonl: break
        }
    }

    mutating func add(_ row: [QueryTable.Cell]) {
        defer { rows += 1 }
        switch format {
        case .csv: emit(renderer.csvRow(row))
        case .jsonl: emit(renderer.jsonObject(columns, row) + "\n")
        case .json: emit((rows == 0 ? "" : ",") + renderer.jsonObject(columns, row))
        case .table:
            if let layout {
                emit(renderer.rowLine(row, layout) + "\n")
            } else {
                window.append(row)
                if window.count == Self.windowSize { startTable() }
            }
        }
    }

    mutating func end() {
        switch format {
        case .json: emit("]\n")
        case .table:
            if layout == nil { startTable() }
            if rows == 0 { emit(renderer.terminal.dim("(no rows)") + "\n") }
        case .csv, .jsonl: break
        }
        flush()
    }

    private mutating func startTable() {
        columns = ReadOnlySQL.columns(named: names, from: window)
        let layout = renderer.layout(QueryTable(columns: columns, rows: window))
        self.layout = layout
        emit(renderer.headerLine(layout) + "\n")
        for row in window { emit(renderer.rowLine(row, layout) + "\n") }
        window.removeAll()
    }

    private mutating func emit(_ text: String) {
        buffer += text
        if buffer.utf8.count >= 1 << 16 { flush() }
    }

    private mutating func flush() {
        renderer.terminal.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
