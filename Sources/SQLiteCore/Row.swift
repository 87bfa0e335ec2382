import CSQLite

/// The current row of a statement: a view, not a copy. Reading allocates only
/// the returned values.
public struct Row {
    let statement: Statement
    var handle: OpaquePointer { statement.handle }

    public var count: Int { statement.columnCount }

    public func isNull(_ index: Int) -> Bool {
        sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL
    }

    public func get<T: SQLReadable>(_ index: Int, as type: T.Type = T.self) -> T {
        T.read(from: handle, at: Int32(index))
    }

    public func get<T: SQLReadable>(_ name: String, as type: T.Type = T.self) throws -> T {
        T.read(from: handle, at: try statement.columnIndex(named: name))
    }

    public func int64(_ index: Int) -> Int64 { get(index) }
    public func int(_ index: Int) -> Int { get(index) }
    public func double(_ index: Int) -> Double { get(index) }
    public func string(_ index: Int) -> String { get(index) }
    public func optionalInt64(_ index: Int) -> Int64? { get(index) }
    public func optionalDouble(_ index: Int) -> Double? { get(index) }
    public func optionalString(_ index: Int) -> String? { get(index) }
    public func blob(_ index: Int) -> [UInt8] { get(index) }
    public func value(_ index: Int) -> SQLValue { get(index) }

    /// Calls `body` with the column's bytes (text or blob) without copying them.
    public func withBytes<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let column = Int32(index)
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// A Swift type read from a column: the column's NULL is checked once, then
/// the typed call is made.
public protocol SQLReadable {
    static func read(from statement: OpaquePointer, at index: Int32) -> Self
}

extension Int64: SQLReadable {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Int64 {
        sqlite3_column_int64(statement, index)
    }
}

extension Int: SQLReadable {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Int {
        Int(sqlite3_column_int64(statement, index))
    }
}

extension Bool: SQLReadable {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Bool {
        sqlite3_column_int64(statement, index) != 0
    }
}

extension Double: SQLReadable {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Double {
        sqlite3_column_double(statement, index)
    }
}

extension String: SQLReadable {
    public static func read(from statement: OpaquePointer, at index: Int32) -> String {
        guard let text = sqlite3_column_text(statement, index) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }
}

extension Array: SQLReadable where Element == UInt8 {
    public static func read(from statement: OpaquePointer, at index: Int32) -> [UInt8] {
        let pointer = sqlite3_column_blob(statement, index)
        let count = Int(sqlite3_column_bytes(statement, index))
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

extension Optional: SQLReadable where Wrapped: SQLReadable {
    public static func read(from statement: OpaquePointer, at index: Int32) -> Wrapped? {
        sqlite3_column_type(statement, index) == SQLITE_NULL ? nil : Wrapped.read(from: statement, at: index)
    }
}

extension SQLValue: SQLReadable {
    public static func read(from statement: OpaquePointer, at index: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT: return .text(String.read(from: statement, at: index))
        case SQLITE_BLOB: return .blob([UInt8].read(from: statement, at: index))
        default: return .null
        }
    }
}
