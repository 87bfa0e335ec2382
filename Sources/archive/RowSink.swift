import ArchiveCore
import Foundation

/// Writes rows as they are made (`sql`'s as SQLite steps them, a streamed
/// report's): CSV, JSON lines and JSON go out row by row in flat memory; a
/// table takes its columns' widths from a first window of rows, then streams
/// the rest in that layout. A report's frame gives the columns' kinds and the
/// totals (shown after the rows, as `TableRenderer` shows a whole table).
struct RowSink {
    let format: OutputFormat
    let renderer: TableRenderer
    private var names: [String] = []
    private var columns: [QueryTable.Column] = []
    /// A report's columns and totals, when it has them.
    private var frame: QueryTable?
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

    /// A report's rows follow: its columns are known, and its JSON is an
    /// object of rows and totals.
    mutating func begin(frame: QueryTable) {
        self.frame = frame
        names = frame.columns.map(\.name)
        columns = frame.columns
        switch format {
        case .csv: emit(renderer.csvHeader(columns))
        case .json: emit(frame.totals == nil ? "[" : "{\"rows\":[")
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

    /// Ends the rows; a report's frame ends with its totals and note.
    mutating func end(frame ended: QueryTable? = nil) {
        switch format {
        case .json:
            if let totals = ended?.totals ?? frame?.totals {
                emit("],\"totals\":" + renderer.jsonObject(columns, totals) + "}\n")
            } else {
                emit("]\n")
            }
        case .table:
            if layout == nil { startTable() }
            if let layout, let totals = ended?.totals {
                emit(renderer.totalsLine(totals, layout) + "\n")
            }
            if let note = ended?.note { emit(renderer.terminal.dim(note) + "\n") }
            if rows == 0 { emit(renderer.terminal.dim("(no rows)") + "\n") }
        case .csv, .jsonl: break
        }
        flush()
    }

    private mutating func startTable() {
        if frame == nil { columns = ReadOnlySQL.columns(named: names, from: window) }
        let layout = renderer.layout(QueryTable(columns: columns, rows: window, totals: frame?.totals))
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
