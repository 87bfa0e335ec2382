import CSQLite

/// The current row of a statement: a view, not a copy, valid only inside the
/// call that hands it out. Reads check the column index and refuse a NULL
/// read into a non-optional type, so that nothing turns into 0 or "" silently.
public struct Row {
    let statement: Statement
    var handle: OpaquePointer { statement.handle }

    public var count: Int { statement.rowColumnCount }

    public func isNull(_ index: Int) throws -> Bool {
        try sqlite3_column_type(handle, column(index)) == SQLITE_NULL
    }

    public func get<T: SQLReadable>(_ index: Int, as type: T.Type = T.self) throws -> T {
        try T.read(self, at: Int(column(index)))
    }

    public func get<T: SQLReadable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try T.read(self, at: Int(statement.columnIndex(named: name)))
    }

    public func int64(_ index: Int) throws -> Int64 { try get(index) }
    public func int(_ index: Int) throws -> Int { try get(index) }
    public func double(_ index: Int) throws -> Double { try get(index) }
    public func string(_ index: Int) throws -> String { try get(index) }
    public func optionalInt64(_ index: Int) throws -> Int64? { try get(index) }
    public func optionalDouble(_ index: Int) throws -> Double? { try get(index) }
    public func optionalString(_ index: Int) throws -> String? { try get(index) }
    public func blob(_ index: Int) throws -> [UInt8] { try get(index) }
    public func value(_ index: Int) throws -> SQLValue { try get(index) }

    /// Calls `body` with the column's bytes (text or blob, empty for NULL)
    /// without copying them.
    public func withBytes<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let column = try column(index)
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    private func column(_ index: Int) throws -> Int32 {
        let count = statement.rowColumnCount
        guard index >= 0, index < count else {
            throw SQLiteError(.range, message: "no column \(index): the row has \(count)", sql: statement.sql)
        }
        return Int32(index)
    }

    /// For the integer conformances of `SQLReadable`: NULL reads as 0, so
    /// only a 0 needs the column's type asked.
    func nonNullInteger(_ column: Int, reading type: String) throws -> Int64 {
        let value = sqlite3_column_int64(handle, Int32(column))
        if value == 0 { _ = try nonNull(column, reading: type) }
        return value
    }

    /// For a conformance of `SQLReadable`: fails when the column is NULL.
    func nonNull(_ column: Int, reading type: String) throws -> Int32 {
        let index = Int32(column)
        if sqlite3_column_type(handle, index) == SQLITE_NULL {
            throw SQLiteError(.mismatch,
                              message: "column \(column) (\(statement.columnName(at: column))) is NULL, read as \(type)",
                              sql: statement.sql)
        }
        return index
    }
}

/// A Swift type read from a column. `Row.get` checks the index before it
/// calls `read`; a conformance outside this module reads through `Row.value`.
public protocol SQLReadable {
    static func read(_ row: Row, at column: Int) throws -> Self
}

extension Int64: SQLReadable {
    public static func read(_ row: Row, at column: Int) throws -> Int64 {
        try row.nonNullInteger(column, reading: "Int64")
    }
}

extension Int: SQLReadable {
    public static func read(_ row: Row, at column: Int) throws -> Int {
        Int(try row.nonNullInteger(column, reading: "Int"))
    }
}

extension Bool: SQLReadable {
    public static func read(_ row: Row, at column: Int) throws -> Bool {
        try row.nonNullInteger(column, reading: "Bool") != 0
    }
}

extension Double: SQLReadable {
    public static func read(_ row: Row, at column: Int) throws -> Double {
        sqlite3_column_double(row.handle, try row.nonNull(column, reading: "Double"))
    }
}

extension String: SQLReadable {
    public static func read(_ row: Row, at column: Int) throws -> String {
        let index = try row.nonNull(column, reading: "String")
        return text(row.handle, index)
    }

    fileprivate static func text(_ statement: OpaquePointer, _ index: Int32) -> String {
        guard let text = sqlite3_column_text(statement, index) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }
}

extension Array: SQLReadable where Element == UInt8 {
    public static func read(_ row: Row, at column: Int) throws -> [UInt8] {
        bytes(row.handle, try row.nonNull(column, reading: "[UInt8]"))
    }

    fileprivate static func bytes(_ statement: OpaquePointer, _ index: Int32) -> [UInt8] {
        let pointer = sqlite3_column_blob(statement, index)
        let count = Int(sqlite3_column_bytes(statement, index))
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

extension Optional: SQLReadable where Wrapped: SQLReadable {
    public static func read(_ row: Row, at column: Int) throws -> Wrapped? {
        sqlite3_column_type(row.handle, Int32(column)) == SQLITE_NULL ? nil : try Wrapped.read(row, at: column)
    }
}

extension SQLValue: SQLReadable {
    public static func read(_ row: Row, at column: Int) throws -> SQLValue {
        let index = Int32(column)
        switch sqlite3_column_type(row.handle, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(row.handle, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(row.handle, index))
        case SQLITE_TEXT: return .text(String.text(row.handle, index))
        case SQLITE_BLOB: return .blob([UInt8].bytes(row.handle, index))
        default: return .null
        }
    }
}
