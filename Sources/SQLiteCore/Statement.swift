import CSQLite

/// One prepared statement. Finalized when released; not shared across threads.
public final class Statement {
    public let sql: String
    let handle: OpaquePointer
    let connection: OpaquePointer
    /// Set when a step failed, so that the statement cache prepares it anew.
    private(set) var failed = false
    /// Set while `execute`, `forEachRow`, `first` or `scalar` runs: running the
    /// statement again from inside (a row handler) would reset the outer cursor.
    private(set) var isRunning = false
    /// The columns of the row the last step gave: what `Row` checks an index
    /// against, asked once per row rather than once per read.
    private(set) var rowColumnCount = 0
    private lazy var indexByColumnName: [String: Int32] = {
        var map: [String: Int32] = [:]
        for index in 0..<columnCount { map[columnName(at: index)] = Int32(index) }
        return map
    }()

    init(connection: OpaquePointer, sql: String, persistent: Bool) throws {
        self.sql = sql
        self.connection = connection
        var statement: OpaquePointer?
        var trailing = ""
        let flags = UInt32(persistent ? SQLITE_PREPARE_PERSISTENT : 0)
        var text = sql
        let code: Int32 = text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { chars in
                var tail: UnsafePointer<CChar>?
                let code = sqlite3_prepare_v3(connection, chars.baseAddress, Int32(chars.count), flags, &statement, &tail)
                if code == SQLITE_OK, let tail, let base = chars.baseAddress {
                    let consumed = base.distance(to: tail)
                    trailing = String(decoding: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[consumed...]), as: UTF8.self)
                }
                return code
            }
        }
        guard code == SQLITE_OK else {
            sqlite3_finalize(statement)
            throw SQLiteError(code: code, connection: connection, sql: sql)
        }
        guard let statement else {
            throw SQLiteError(.misuse, message: "no SQL statement to prepare", sql: sql)
        }
        if Self.holdsAnotherStatement(trailing, connection: connection) {
            sqlite3_finalize(statement)
            throw SQLiteError(.misuse, message: "expected one SQL statement, found more", sql: sql)
        }
        self.handle = statement
    }

    deinit { sqlite3_finalize(handle) }

    private static func holdsAnotherStatement(_ tail: String, connection: OpaquePointer) -> Bool {
        if tail.allSatisfy({ $0.isWhitespace || $0 == ";" }) { return false }
        var next: OpaquePointer?
        let code = sqlite3_prepare_v2(connection, tail, -1, &next, nil)
        defer { sqlite3_finalize(next) }
        // A tail that fails to prepare still is a second statement.
        return code != SQLITE_OK || next != nil
    }

    // MARK: Binding

    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    /// Binds `value` to the 1-based parameter `index`.
    public func bind(_ value: some SQLBindable, at index: Int) throws {
        try value.bind(to: self, at: index)
    }

    /// Binds `value` to a named parameter such as `:id`, `@id` or `$id`.
    public func bind(_ value: some SQLBindable, named name: String) throws {
        let index = sqlite3_bind_parameter_index(handle, name)
        guard index > 0 else {
            throw SQLiteError(.range, message: "no parameter named \(name)", sql: sql)
        }
        try value.bind(to: self, at: Int(index))
    }

    /// Binds values to parameters 1, 2, … in order.
    public func bind(_ values: [any SQLBindable]) throws {
        guard values.count == parameterCount else {
            throw SQLiteError(.range,
                              message: "expected \(parameterCount) arguments, got \(values.count)", sql: sql)
        }
        for (offset, value) in values.enumerated() {
            try value.bind(to: self, at: offset + 1)
        }
    }

    public func clearBindings() { sqlite3_clear_bindings(handle) }

    // MARK: Stepping

    /// Advances; true when a row is available, false when done.
    @discardableResult
    public func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW:
            rowColumnCount = Int(sqlite3_column_count(handle))
            return true
        case SQLITE_DONE: return false
        default:
            failed = true
            let error = SQLiteError(code: code, connection: connection, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    public func reset() { sqlite3_reset(handle) }

    /// The row the last `step` gave, for a caller that steps by hand (two
    /// cursors in turn): valid until the next step or reset.
    public var currentRow: Row { Row(statement: self) }

    /// Binds, runs to completion and resets.
    public func execute(_ arguments: StatementArguments = []) throws {
        try run(arguments) { while try step() {} }
    }

    /// Binds, then calls `body` once per row. The row is only valid inside the call.
    public func forEachRow(_ arguments: StatementArguments = [], body: (Row) throws -> Void) throws {
        try run(arguments) {
            let row = Row(statement: self)
            while try step() { try body(row) }
        }
    }

    /// Binds, then maps the first row (if any).
    public func first<T>(_ arguments: StatementArguments = [], map: (Row) throws -> T) throws -> T? {
        try run(arguments) { try step() ? map(Row(statement: self)) : nil }
    }

    /// Binds, then reads the first column of the first row; nil when there is no row.
    public func scalar<T: SQLReadable>(_ arguments: StatementArguments = [], as type: T.Type = T.self) throws -> T? {
        try run(arguments) { try step() ? Row(statement: self).get(0, as: T.self) : nil }
    }

    func run<T>(_ arguments: StatementArguments, _ body: () throws -> T) throws -> T {
        guard !isRunning else {
            throw SQLiteError(.misuse, message: "statement run again while it runs", sql: sql)
        }
        isRunning = true
        defer { reset(); isRunning = false }
        if !arguments.isEmpty { try bind(arguments.values) }
        return try body()
    }

    // MARK: Columns

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    public func columnName(at index: Int) -> String {
        String(cString: sqlite3_column_name(handle, Int32(index)))
    }

    public var columnNames: [String] { (0..<columnCount).map(columnName(at:)) }

    func columnIndex(named name: String) throws -> Int32 {
        guard let index = indexByColumnName[name] else {
            throw SQLiteError(.range, message: "no column named \(name)", sql: sql)
        }
        return index
    }

    /// True when the statement cannot change the database.
    public var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }
}
