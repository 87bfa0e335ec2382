import CSQLite
import Foundation

/// One SQLite connection, the only owner of its `sqlite3*` handle. It is not
/// Sendable: keep it inside one task or actor.
public final class Database {
    public enum Mode: Sendable {
        case readWriteCreate
        case readWrite
        case readOnly
    }

    public let path: String
    public let mode: Mode
    let handle: OpaquePointer
    var statementCache: [String: Statement] = [:]
    /// Kept alive while SQLite holds a pointer to it.
    var authorizer: AuthorizerBox?
    private var savepointDepth = 0
    /// Set by `close()`: the handle is gone, and every use fails.
    public private(set) var isClosed = false

    /// Opens (or creates) the database at `path`. A file that is not a
    /// database fails here, naming the path, rather than at the first query.
    /// `pageSize` applies only when this creates the database; an existing
    /// one keeps its own.
    /// `trustingSchema` false: the file's views and triggers may call no
    /// function SQLite does not mark innocuous (`PRAGMA trusted_schema=OFF`),
    /// for a file from elsewhere until its schema is known to be ours. (The
    /// archive's own views use JSON functions, which SQLite 3.40 does not
    /// mark innocuous.)
    public init(path: String, mode: Mode = .readWriteCreate, pageSize: Int? = nil,
                busyTimeoutMilliseconds: Int32 = 5_000, trustingSchema: Bool = true) throws {
        self.path = path
        self.mode = mode
        handle = try Self.openConnection(path: path, mode: mode, pageSize: pageSize, busyTimeoutMilliseconds: busyTimeoutMilliseconds,
                                         trustingSchema: trustingSchema)
    }

    /// Opens and configures a handle, or closes it and throws: the handle is
    /// only ever stored once it works, so `deinit` never closes one twice.
    private static func openConnection(path: String, mode: Mode, pageSize: Int?,
                                       busyTimeoutMilliseconds: Int32, trustingSchema: Bool) throws -> OpaquePointer {
        do {
            return try openConnection(filename: path, flags: 0, path: path, mode: mode, pageSize: pageSize,
                                      busyTimeoutMilliseconds: busyTimeoutMilliseconds, trustingSchema: trustingSchema)
        } catch let error as SQLiteError where mode == .readOnly && !FileManager.default.fileExists(atPath: path + "-wal") {
            // A folder or mount that cannot be written has no room for the
            // WAL's shared memory file. With no WAL left behind (a clean
            // close checkpoints it), the file alone is the whole database:
            // read it as immutable.
            guard access((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
                         W_OK) != 0 || access(path, W_OK) != 0,
                  let uri = Self.immutableURI(path) else { throw error }
            return try openConnection(filename: uri, flags: SQLITE_OPEN_URI, path: path, mode: mode, pageSize: nil,
                                      busyTimeoutMilliseconds: busyTimeoutMilliseconds, trustingSchema: trustingSchema)
        }
    }

    private static func openConnection(filename: String, flags extraFlags: Int32, path: String, mode: Mode, pageSize: Int?,
                                       busyTimeoutMilliseconds: Int32, trustingSchema: Bool) throws -> OpaquePointer {
        var connection: OpaquePointer?
        let flags: Int32
        switch mode {
        case .readWriteCreate: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readWrite: flags = SQLITE_OPEN_READWRITE
        case .readOnly: flags = SQLITE_OPEN_READONLY
        }
        let code = sqlite3_open_v2(filename, &connection, flags | extraFlags | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let connection else {
            let error = SQLiteError(code: code, connection: connection)
            sqlite3_close_v2(connection)
            throw SQLiteError(error.resultCode, message: "\(error.message): \(path)")
        }
        sqlite3_extended_result_codes(connection, 1)
        sqlite3_busy_timeout(connection, busyTimeoutMilliseconds)
        // Every file is read as one from elsewhere may be (sqlite.org's "Defense
        // Against the Dark Arts"): no writes to the schema or to shadow tables
        // through SQL, and each b-tree page checked as it is read.
        var configured = archive_sqlite3_db_config_flag(connection, SQLITE_DBCONFIG_DEFENSIVE, 1)
        if configured == SQLITE_OK { configured = ArithmeticFunctions.register(on: connection) }
        guard configured == SQLITE_OK else {
            let error = SQLiteError(code: configured, connection: connection)
            sqlite3_close_v2(connection)
            throw SQLiteError(error.resultCode, message: "\(error.message): \(path)")
        }
        var setup = ["PRAGMA cell_size_check=ON", "SELECT count(*) FROM sqlite_master"]
        if !trustingSchema { setup.insert("PRAGMA trusted_schema=OFF", at: 0) }
        if mode != .readOnly {
            if let pageSize { setup.append("PRAGMA page_size=\(pageSize)") }
            setup += ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"]
        }
        setup.append("PRAGMA foreign_keys=ON")
        for sql in setup {
            var message: UnsafeMutablePointer<CChar>?
            let result = sqlite3_exec(connection, sql, nil, nil, &message)
            guard result == SQLITE_OK else {
                let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(result))
                sqlite3_free(message)
                let extended = sqlite3_extended_errcode(connection)
                sqlite3_close_v2(connection)
                throw SQLiteError(ResultCode(rawValue: extended), message: "\(text): \(path)")
            }
        }
        return connection
    }

    /// `file:PATH?immutable=1`, with the path percent-encoded as SQLite's URIs want.
    static func immutableURI(_ path: String) -> String? {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return absolute.addingPercentEncoding(withAllowedCharacters: allowed).map { "file:\($0)?immutable=1" }
    }

    deinit {
        guard !isClosed else { return }
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Closes the connection now, rolling back a transaction left open. It
    /// fails, leaving the connection open, while a statement prepared on it
    /// is still alive elsewhere (as `sqlite3_close` does): a leak to fix, not
    /// to hide. Closing twice does nothing.
    public func close() throws {
        guard !isClosed else { return }
        statementCache.removeAll()
        let code = sqlite3_close(handle)
        guard code == SQLITE_OK else {
            throw SQLiteError(ResultCode(rawValue: code), message: "cannot close \(path): a statement prepared on it is still alive")
        }
        isClosed = true
    }

    func openHandle(for sql: String) throws -> OpaquePointer {
        guard !isClosed else { throw SQLiteError(.misuse, message: "the connection to \(path) is closed", sql: sql) }
        return handle
    }

    // MARK: Statements

    /// Prepares one statement; SQL holding more than one is refused.
    public func prepare(_ sql: String) throws -> Statement {
        try Statement(connection: openHandle(for: sql), sql: sql, persistent: false)
    }

    /// A prepared statement kept for reuse, keyed by its SQL: for fixed SQL
    /// run often, chosen by the caller (SQL built from values would fill the
    /// cache). A statement whose last step failed is prepared anew; one that
    /// is running (this is a call from its own row handler) is refused.
    public func cached(_ sql: String) throws -> Statement {
        if let statement = statementCache[sql], !statement.failed {
            guard !statement.isRunning else {
                throw SQLiteError(.misuse, message: "cached statement asked for while it runs", sql: sql)
            }
            statement.reset()
            statement.clearBindings()
            return statement
        }
        let statement = try Statement(connection: openHandle(for: sql), sql: sql, persistent: true)
        statementCache[sql] = statement
        return statement
    }

    /// Runs every statement of `script` in order (migrations, set-up).
    public func executeScript(_ script: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(try openHandle(for: script), script, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(errorMessage)
            throw SQLiteError(ResultCode(rawValue: sqlite3_extended_errcode(handle)), message: message, sql: script)
        }
    }

    // One-shot forms: prepare (not cached), run with these arguments, finalize.

    public func execute(_ sql: String, _ arguments: any SQLBindable...) throws {
        try prepare(sql).execute(StatementArguments(arguments))
    }

    public func first<T>(_ sql: String, _ arguments: any SQLBindable..., map: (Row) throws -> T) throws -> T? {
        try prepare(sql).first(StatementArguments(arguments), map: map)
    }

    public func forEachRow(_ sql: String, _ arguments: any SQLBindable..., body: (Row) throws -> Void) throws {
        try prepare(sql).forEachRow(StatementArguments(arguments), body: body)
    }

    public func scalar<T: SQLReadable>(_ sql: String, _ arguments: any SQLBindable..., as type: T.Type = T.self) throws -> T? {
        try prepare(sql).scalar(StatementArguments(arguments), as: type)
    }

    // MARK: State

    public var lastInsertedRowID: Int64 { isClosed ? 0 : sqlite3_last_insert_rowid(handle) }
    public var changes: Int { isClosed ? 0 : Int(sqlite3_changes64(handle)) }
    /// True when no transaction is open.
    public var isAutocommit: Bool { isClosed || sqlite3_get_autocommit(handle) != 0 }
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    // MARK: Transactions

    /// Runs `body` in a transaction, BEGIN IMMEDIATE: writers take the write
    /// lock up front, so two writers never deadlock upgrading. Rolls back on
    /// a throw and rethrows the first error.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try cached("BEGIN IMMEDIATE").execute()
        let result: T
        do {
            result = try body()
            try cached("COMMIT").execute()
        } catch {
            if !isAutocommit { try? cached("ROLLBACK").execute() }
            throw error
        }
        return result
    }

    /// Runs `body` in one read transaction (BEGIN DEFERRED): every statement
    /// in it reads the same snapshot, whatever other connections commit
    /// meanwhile. Inside a transaction already, `body` runs in that one.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        guard isAutocommit else { return try body() }
        try cached("BEGIN DEFERRED").execute()
        defer { if !isAutocommit { try? cached("COMMIT").execute() } }
        return try body()
    }

    /// Runs `body` in a savepoint: nests inside a transaction or another
    /// savepoint; on a throw only the savepoint's work is undone.
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "sp\(savepointDepth)"
        try execute("SAVEPOINT \(name)")
        let result: T
        do {
            result = try body()
            try execute("RELEASE \(name)")
        } catch {
            if !isAutocommit {
                try? execute("ROLLBACK TO \(name)")
                try? execute("RELEASE \(name)")
            }
            throw error
        }
        return result
    }
}

// MARK: Bounded work

extension Database {
    /// Runs `body` with a limit on how long SQLite may work meanwhile: a
    /// statement still running after `seconds` fails with
    /// `ResultCode.interrupted`. For reading what may never end (a view over
    /// an endless recursive query in a file from elsewhere).
    public func limitingTime<T>(seconds: Double, _ body: () throws -> T) throws -> T {
        try limitingWork(WorkBudget(seconds: seconds), body)
    }

    /// Runs `body` within `budget`: once its time or its steps are spent, or
    /// it is stopped from another thread, the statement running fails with
    /// `ResultCode.interrupted`, and `budget.reached` says why.
    public func limitingWork<T>(_ budget: WorkBudget, _ body: () throws -> T) throws -> T {
        let context = Unmanaged.passUnretained(budget).toOpaque()
        sqlite3_progress_handler(try openHandle(for: ""), Int32(WorkBudget.stepsPerCheck), { context in
            guard let context else { return 0 }
            return Unmanaged<WorkBudget>.fromOpaque(context).takeUnretainedValue().isSpent ? 1 : 0
        }, context)
        defer {
            if !isClosed { sqlite3_progress_handler(handle, 0, nil, nil) }
            withExtendedLifetime(budget) {}
        }
        return try body()
    }

    /// A ceiling on the memory SQLite may hold in this process, in bytes: an
    /// allocation past it fails with `ResultCode.noMemory` (the statement
    /// fails, the process goes on). Process-wide, as SQLite's heap is.
    public static func limitHeap(bytes: Int64) {
        _ = sqlite3_hard_heap_limit64(bytes)
    }
}

/// What a piece of work may spend: time on the monotonic clock, and SQLite's
/// virtual machine steps (about a row looked at each); `stop()` ends it from
/// any thread. Checked every `stepsPerCheck` steps by a progress handler.
public final class WorkBudget: @unchecked Sendable {
    public enum Limit: Sendable, Equatable { case time, steps, stopped }

    static let stepsPerCheck = 1_000
    private let end: UInt64
    private let maxChecks: Int?
    private var checks = 0
    private let lock = NSLock()
    private var stopped = false
    private var spent: Limit?

    public init(seconds: Double, steps: Int? = nil) {
        end = Self.now() &+ UInt64(max(0, min(seconds, 1e9)) * 1e9)
        maxChecks = steps.map { max(1, $0 / Self.stepsPerCheck) }
    }

    /// Ends the work at the next check.
    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    /// Which limit ended the work, if one did.
    public var reached: Limit? {
        lock.lock()
        defer { lock.unlock() }
        return spent
    }

    var isSpent: Bool {
        lock.lock()
        defer { lock.unlock() }
        if spent != nil { return true }
        checks += 1
        if stopped { spent = .stopped } else if let maxChecks, checks > maxChecks { spent = .steps } else if Self.now() >= end { spent = .time }
        return spent != nil
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
