import CSQLite

/// SQLite copies bound text and blobs (the Swift buffer does not outlive the call).
let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A Swift value that can be bound to a statement parameter. A conformance
/// outside this module binds one of the types below through `Statement.bind`.
public protocol SQLBindable {
    func bind(to statement: Statement, at index: Int) throws
}

extension Statement {
    /// Binds with one of SQLite's calls and turns its result code into a throw.
    func bindRaw(_ index: Int, _ call: (OpaquePointer, Int32) -> Int32) throws {
        try check(call(handle, Int32(index)), connection, sql: sql)
    }
}

extension Int64: SQLBindable {
    public func bind(to statement: Statement, at index: Int) throws {
        try statement.bindRaw(index) { sqlite3_bind_int64($0, $1, self) }
    }
}

extension Int: SQLBindable {
    public func bind(to statement: Statement, at index: Int) throws {
        try statement.bindRaw(index) { sqlite3_bind_int64($0, $1, Int64(self)) }
    }
}

extension Int32: SQLBindable {
    public func bind(to statement: Statement, at index: Int) throws {
        try statement.bindRaw(index) { sqlite3_bind_int64($0, $1, Int64(self)) }
    }
}

extension Bool: SQLBindable {
    public func bind(to statement: Statement, at index: Int) throws {
        try statement.bindRaw(index) { sqlite3_bind_int64($0, $1, self ? 1 : 0) }
    }
}

extension Double: SQLBindable {
    public func bind(to statement: Statement, at index: Int) throws {
        try statement.bindRaw(index) { sqlite3_bind_double($0, $1, self) }
    }
}

extension String: SQLBindable {
    public func bind(to statement: Statement, at index: Int) throws {
        var copy = self
        try copy.withUTF8 { buffer in
            try statement.bindRaw(index) { bindText(UnsafeRawBufferPointer(buffer), to: $0, at: $1) }
        }
    }
}

extension Substring: SQLBindable {
    public func bind(to statement: Statement, at index: Int) throws {
        var copy = self
        try copy.withUTF8 { buffer in
            try statement.bindRaw(index) { bindText(UnsafeRawBufferPointer(buffer), to: $0, at: $1) }
        }
    }
}

extension Array: SQLBindable where Element == UInt8 {
    public func bind(to statement: Statement, at index: Int) throws {
        try withUnsafeBytes { buffer in
            try statement.bindRaw(index) { handle, index in
                guard let base = buffer.baseAddress, !buffer.isEmpty else { return sqlite3_bind_zeroblob(handle, index, 0) }
                return sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(buffer.count), transientDestructor)
            }
        }
    }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    public func bind(to statement: Statement, at index: Int) throws {
        switch self {
        case .none: try statement.bindRaw(index) { sqlite3_bind_null($0, $1) }
        case .some(let value): try value.bind(to: statement, at: index)
        }
    }
}

extension SQLValue: SQLBindable {
    public func bind(to statement: Statement, at index: Int) throws {
        switch self {
        case .null: try statement.bindRaw(index) { sqlite3_bind_null($0, $1) }
        case .integer(let value): try value.bind(to: statement, at: index)
        case .real(let value): try value.bind(to: statement, at: index)
        case .text(let value): try value.bind(to: statement, at: index)
        case .blob(let value): try value.bind(to: statement, at: index)
        }
    }
}

/// Binds text with its byte length, never strlen: text may hold U+0000.
/// A zero-length buffer may have no base address, which SQLite would read as NULL.
func bindText(_ buffer: UnsafeRawBufferPointer, to statement: OpaquePointer, at index: Int32) -> Int32 {
    guard let base = buffer.baseAddress, !buffer.isEmpty else {
        return sqlite3_bind_text(statement, index, "", 0, transientDestructor)
    }
    return sqlite3_bind_text64(statement, index, base.assumingMemoryBound(to: CChar.self),
                               sqlite3_uint64(buffer.count), transientDestructor, UInt8(SQLITE_UTF8))
}
