import Foundation
import SQLiteCore

/// `archive sql`: one statement over the archive that cannot change it. The
/// connection is read-only, `query_only` is on, and an authorizer allows only
/// reading: no writes, no ATTACH, no PRAGMA that sets anything.
public enum ReadOnlySQL {
    public enum QueryError: Error, CustomStringConvertible, Equatable {
        /// The statement would write, attach, or set state.
        case refused(String)
        case failed(String)
        case parameterCount(expected: Int, given: Int)

        public var description: String {
            switch self {
            case .refused(let reason): "refused: the archive is read-only here (\(reason))"
            case .failed(let message): message
            case let .parameterCount(expected, given): "the statement has \(expected) parameters; \(given) given"
            }
        }
    }

    static let readablePragmas: Set<String> = [  // our own names
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
        "function_list", "pragma_list", "collation_list", "compile_options", "database_list", "user_version",
        "schema_version", "data_version", "page_count", "page_size", "freelist_count", "journal_mode", "encoding",
        "application_id", "quick_check", "integrity_check", "foreign_key_check",
    ]

    static func verdict(_ request: AuthorizerRequest) -> AuthorizerVerdict {
        switch request.action {
        case AuthorizerRequest.select, AuthorizerRequest.read, AuthorizerRequest.recursive:
            return .allow
        case AuthorizerRequest.function:
            // fts3_tokenizer() reads and writes tokenizer pointers; fts5() hands one out.
            guard let name = request.argument2?.lowercased() else { return .allow }
            return ["fts3_tokenizer", "fts5", "load_extension"].contains(name) ? .deny : .allow
        case AuthorizerRequest.pragma:
            guard let name = request.argument1?.lowercased(), readablePragmas.contains(name) else { return .deny }
            // `PRAGMA x = value` and `PRAGMA x(value)` set state, except where the argument names a table.
            let takesTableArgument = ["table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
                                      "foreign_key_list", "table_list", "quick_check", "integrity_check",
                                      "foreign_key_check"].contains(name)
            return request.argument2 == nil || takesTableArgument ? .allow : .deny
        default:
            return .deny
        }
    }

    /// Runs the statement and hands each row to `row` as SQLite steps it, so
    /// that any number of rows takes the memory of one. `columns` is called
    /// once, first. Each parameter is bound as an integer or a real when it
    /// reads as one, else as text.
    /// Stepping ends after `maxRows` rows, if given; returns whether rows were left unread.
    @discardableResult
    static func stream(on database: Database, sql: String, parameters: [String], maxRows: Int? = nil,
                       columns: ([String]) throws -> Void, row: ([QueryTable.Cell]) throws -> Void) throws(QueryError) -> Bool {
        let statement: Statement
        do { statement = try database.prepare(sql) } catch let error as SQLiteError {
            if case .notAuthorized = error.resultCode {
                throw QueryError.refused(error.message)
            }
            throw QueryError.failed(error.message)
        } catch {
            throw QueryError.failed("\(error)")
        }
        guard statement.parameterCount == parameters.count else {
            throw QueryError.parameterCount(expected: statement.parameterCount, given: parameters.count)
        }
        do {
            for (offset, text) in parameters.enumerated() {
                if let integer = Int64(text) {
                    try statement.bind(integer, at: offset + 1)
                } else if let real = Double(text), !text.lowercased().contains("n") {
                    try statement.bind(real, at: offset + 1)
                } else {
                    try statement.bind(text, at: offset + 1)
                }
            }
            let names = statement.columnNames
            try columns(names)
            var count = 0
            try statement.forEachRow { values in
                if let maxRows, count == maxRows { throw RowsLeftError() }
                count += 1
                try row((0..<names.count).map { index in
                    switch try values.value(index) {
                    case .null: return .null
                    case .integer(let value): return .integer(value)
                    case .real(let value): return .number(value)
                    case .text(let value): return .text(value)
                    case .blob(let bytes): return .text("x'" + bytes.map { String(format: "%02x", $0) }.joined() + "'")
                    }
                })
            }
        } catch is RowsLeftError {
            return true
        } catch let error as SQLiteError {
            throw QueryError.failed(error.message)
        } catch let error as QueryError {
            throw error
        } catch {
            throw QueryError.failed("\(error)")
        }
        return false
    }

    private struct RowsLeftError: Error {}

    /// Column kinds read off some rows: integer or number when every value there is one.
    public static func columns(named names: [String], from rows: [[QueryTable.Cell]]) -> [QueryTable.Column] {
        names.enumerated().map { index, name in
            let cells = rows.map { $0[index] }.filter { $0 != .null }
            if !cells.isEmpty, cells.allSatisfy({ if case .integer = $0 { return true } else { return false } }) {
                return .init(name, title: name, kind: .integer)
            }
            if !cells.isEmpty, cells.allSatisfy({
                switch $0 { case .integer, .number: return true; default: return false }
            }) {
                return .init(name, title: name, kind: .number)
            }
            return .init(name, title: name)
        }
    }

}

extension ArchiveReader {
    /// `archive sql`: one statement, its rows handed over as SQLite steps
    /// them (see `ReadOnlySQL.stream`). For the call, the connection is
    /// `query_only` and an authorizer allows reading only, whatever
    /// connection the reader has.
    /// Stepping ends after `maxRows` rows, if given; returns whether rows were left unread.
    @discardableResult
    public func sql(_ sql: String, parameters: [String], maxRows: Int? = nil, columns: ([String]) throws -> Void,
                    row: ([QueryTable.Cell]) throws -> Void) throws(ReadOnlySQL.QueryError) -> Bool {
        do {
            try database.execute("PRAGMA query_only = 1")
            // Connect the search index first: its constructor's own bookkeeping would be refused below.
            try database.execute("SELECT count(*) FROM (SELECT rowid FROM search_index LIMIT 0)")
        } catch {
            throw ReadOnlySQL.QueryError.failed("\(error)")
        }
        database.setAuthorizer(ReadOnlySQL.verdict)
        defer {
            database.setAuthorizer(nil)
            try? database.execute("PRAGMA query_only = 0")
        }
        return try ReadOnlySQL.stream(on: database, sql: sql, parameters: parameters, maxRows: maxRows, columns: columns, row: row)
    }

    /// The whole answer as a table (for a caller that wants every row at once).
    public func sql(_ sql: String, parameters: [String] = []) throws(ReadOnlySQL.QueryError) -> QueryTable {
        var names: [String] = []
        var rows: [[QueryTable.Cell]] = []
        try self.sql(sql, parameters: parameters, columns: { names = $0 }, row: { rows.append($0) })
        return QueryTable(columns: ReadOnlySQL.columns(named: names, from: rows), rows: rows)
    }
}
