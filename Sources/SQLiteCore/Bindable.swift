import CSQLite

/// SQLite copies bound text and blobs (the Swift buffer does not outlive the call).
let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A Swift value that can be bound to a statement parameter.
public protocol SQLBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32
}

extension Int64: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, self)
    }
}

extension Int: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, Int64(self))
    }
}

extension Int32: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, Int64(self))
    }
}

extension Bool: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, self ? 1 : 0)
    }
}

extension Double: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_double(statement, index, self)
    }
}

extension String: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        var copy = self
        return copy.withUTF8 { buffer in
            bindText(UnsafeRawBufferPointer(buffer), to: statement, at: index)
        }
    }
}

extension Substring: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        var copy = self
        return copy.withUTF8 { buffer in
            bindText(UnsafeRawBufferPointer(buffer), to: statement, at: index)
        }
    }
}

extension Array: SQLBindable where Element == UInt8 {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress, !buffer.isEmpty else {
                return sqlite3_bind_zeroblob(statement, index, 0)
            }
            return sqlite3_bind_blob64(statement, index, base, sqlite3_uint64(buffer.count), transientDestructor)
        }
    }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .none: return sqlite3_bind_null(statement, index)
        case .some(let value): return value.bind(to: statement, at: index)
        }
    }
}

extension SQLValue: SQLBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .null: return sqlite3_bind_null(statement, index)
        case .integer(let value): return value.bind(to: statement, at: index)
        case .real(let value): return value.bind(to: statement, at: index)
        case .text(let value): return value.bind(to: statement, at: index)
        case .blob(let value): return value.bind(to: statement, at: index)
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
