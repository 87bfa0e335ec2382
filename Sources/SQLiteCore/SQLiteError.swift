import CSQLite

/// Every failure of the SQLite layer: the extended result code, the primary
/// code derived from it, SQLite's message, and the SQL that failed (if any).
public struct SQLiteError: Error, CustomStringConvertible, Equatable, Sendable {
    public let extendedCode: Int32
    public let message: String
    public let sql: String?

    public var primaryCode: Int32 { extendedCode & 0xFF }

    public init(extendedCode: Int32, message: String, sql: String? = nil) {
        self.extendedCode = extendedCode
        self.message = message
        self.sql = sql
    }

    init(code: Int32, connection: OpaquePointer?, sql: String? = nil) {
        let message: String
        if let connection, let cMessage = sqlite3_errmsg(connection) {
            message = String(cString: cMessage)
        } else {
            message = String(cString: sqlite3_errstr(code))
        }
        self.init(extendedCode: code, message: message, sql: sql)
    }

    public var description: String {
        var text = "SQLite error \(extendedCode): \(message)"
        if let sql { text += " (in SQL: \(sql))" }
        return text
    }

    public var isConstraintViolation: Bool { primaryCode == SQLITE_CONSTRAINT }
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
    public var isReadOnly: Bool { primaryCode == SQLITE_READONLY }
    /// The file or the machine failed (full disk, I/O error, corruption, no
    /// memory), not the statement: nothing more can be written, whatever the data.
    public var isEnvironmental: Bool {
        [SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_CANTOPEN, SQLITE_NOMEM,
         SQLITE_PERM].contains(primaryCode)
    }
}

@inline(__always)
func check(_ code: Int32, _ connection: OpaquePointer?, sql: String? = nil) throws {
    if code != SQLITE_OK && code != SQLITE_ROW && code != SQLITE_DONE {
        throw SQLiteError(code: code, connection: connection, sql: sql)
    }
}
