import CSQLite

/// A SQLite result code, primary (`SQLITE_CONSTRAINT`) or extended
/// (`SQLITE_CONSTRAINT_UNIQUE`). A primary code matches every extended code
/// of its kind, in a `switch` or a `catch`:
///
///     catch ResultCode.constraint { … }   // any constraint failure
public struct ResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The primary code of an extended one (itself for a primary code).
    public var primary: ResultCode { ResultCode(rawValue: rawValue & 0xFF) }

    public static let error = ResultCode(rawValue: SQLITE_ERROR)
    public static let permission = ResultCode(rawValue: SQLITE_PERM)
    public static let interrupted = ResultCode(rawValue: SQLITE_INTERRUPT)
    public static let busy = ResultCode(rawValue: SQLITE_BUSY)
    public static let locked = ResultCode(rawValue: SQLITE_LOCKED)
    public static let noMemory = ResultCode(rawValue: SQLITE_NOMEM)
    public static let readOnly = ResultCode(rawValue: SQLITE_READONLY)
    public static let ioError = ResultCode(rawValue: SQLITE_IOERR)
    public static let corrupt = ResultCode(rawValue: SQLITE_CORRUPT)
    public static let full = ResultCode(rawValue: SQLITE_FULL)
    public static let cantOpen = ResultCode(rawValue: SQLITE_CANTOPEN)
    public static let constraint = ResultCode(rawValue: SQLITE_CONSTRAINT)
    public static let constraintUnique = ResultCode(rawValue: SQLITE_CONSTRAINT | 8 << 8)  // SQLITE_CONSTRAINT_UNIQUE, a macro Swift does not import
    public static let mismatch = ResultCode(rawValue: SQLITE_MISMATCH)
    public static let misuse = ResultCode(rawValue: SQLITE_MISUSE)
    public static let notAuthorized = ResultCode(rawValue: SQLITE_AUTH)
    public static let range = ResultCode(rawValue: SQLITE_RANGE)
    public static let notADatabase = ResultCode(rawValue: SQLITE_NOTADB)

    public var description: String { String(cString: sqlite3_errstr(rawValue)) + " (\(rawValue))" }

    /// A primary pattern matches its extended codes; an extended one only itself.
    public static func ~= (pattern: ResultCode, code: ResultCode) -> Bool {
        pattern.primary == pattern ? pattern == code.primary : pattern == code
    }

    /// `catch ResultCode.busy`: a `SQLiteError` of that code.
    public static func ~= (pattern: ResultCode, error: any Error) -> Bool {
        guard let error = error as? SQLiteError else { return false }
        return pattern ~= error.resultCode
    }
}

/// Every failure of the SQLite layer: its extended result code, SQLite's
/// message, and the SQL that failed (if any).
public struct SQLiteError: Error, CustomStringConvertible, CustomDebugStringConvertible, Equatable, Sendable {
    /// The extended code; match it with a primary code (`ResultCode.constraint`)
    /// to ask for the kind of failure.
    public let resultCode: ResultCode
    public let message: String
    public let sql: String?

    public init(_ resultCode: ResultCode, message: String, sql: String? = nil) {
        self.resultCode = resultCode
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
        self.init(ResultCode(rawValue: code), message: message, sql: sql)
    }

    /// Code and message: what a person may be shown. The SQL is kept in
    /// `sql` (and `debugDescription`) for tests and developers, never printed
    /// to a user: it says nothing to them and can run to pages.
    public var description: String { "SQLite error \(resultCode.rawValue): \(message)" }

    public var debugDescription: String { description + (sql.map { " (in SQL: \($0))" } ?? "") }

    /// The file or the machine failed (full disk, I/O error, corruption, no
    /// memory, no permission), not the statement: nothing more can be
    /// written, whatever the data.
    public var isEnvironmental: Bool {
        switch resultCode {
        case .full, .ioError, .readOnly, .corrupt, .notADatabase, .cantOpen, .noMemory, .permission: true
        default: false
        }
    }
}

@inline(__always)
func check(_ code: Int32, _ connection: OpaquePointer?, sql: String? = nil) throws {
    if code != SQLITE_OK && code != SQLITE_ROW && code != SQLITE_DONE {
        throw SQLiteError(code: code, connection: connection, sql: sql)
    }
}
