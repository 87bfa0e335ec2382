import TestSupport
import Foundation
import Testing
@testable import SQLiteCore

@Suite struct DatabaseTests {
    let folder: TemporaryDirectory
    let database: Database

    init() throws {
        folder = try TemporaryDirectory()
        database = try Database(path: folder.path("test.db"))
        try database.executeScript("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, data BLOB)")
    }

    @Test func opensInWALWithForeignKeys() throws {
        #expect(try database.scalar("PRAGMA journal_mode", as: String.self) == "wal")
        #expect(try database.scalar("PRAGMA foreign_keys", as: Int.self) == 1)
        #expect(try database.scalar("PRAGMA synchronous", as: Int.self) == 1)
    }

    @Test func checkpointerCopiesTheLogBackOnItsOwnConnection() throws {
        try database.execute("PRAGMA wal_autocheckpoint = 0")
        let path = folder.path("test.db")
        let before = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        try database.transaction {
            for id in 1...2000 { try database.execute("INSERT INTO t(id, name) VALUES (?, ?)", id, String(repeating: "x", count: 100) + "\(id)") }
        }
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == before)  // all of it still in the log
        WALCheckpointer.running(path: path) { requestCheckpoint in requestCheckpoint() }
        let after = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(after > before + 200_000)
        #expect(try database.scalar("SELECT count(*) FROM t", as: Int.self) == 2000)
    }

    @Test func bindsAndReadsEveryTypeByIndexAndName() throws {
        let insert = try database.prepare("INSERT INTO t(id, name, score, data) VALUES (:id, :name, :score, :data)")
        try insert.bind(Int64(7), named: ":id")
        try insert.bind("seven", named: ":name")
        try insert.bind(7.5, named: ":score")
        try insert.bind([UInt8]([0, 1, 2, 255]), named: ":data")
        try insert.step()
        try database.execute("INSERT INTO t(id, name, score, data) VALUES (?, ?, ?, ?)", 8, Optional<String>.none, Optional<Double>.none, [UInt8]())
        var rows: [(Int64, String?, Double?, [UInt8], Bool)] = []
        try database.forEachRow("SELECT id, name, score, data FROM t ORDER BY id") { row in
            try rows.append((try row.get("id"), row.optionalString(1), row.optionalDouble(2), row.blob(3), row.isNull(1)))
        }
        #expect(rows.count == 2)
        #expect(rows[0].0 == 7 && rows[0].1 == "seven" && rows[0].2 == 7.5 && rows[0].3 == [0, 1, 2, 255] && !rows[0].4)
        #expect(rows[1].0 == 8 && rows[1].1 == nil && rows[1].2 == nil && rows[1].3 == [] && rows[1].4)
        #expect(try database.scalar("SELECT typeof(data) FROM t WHERE id = 8", as: String.self) == "blob")
        #expect(try database.first("SELECT score FROM t WHERE id = ?", 7) { try $0.value(0) } == .real(7.5))
        #expect(try database.first("SELECT data FROM t WHERE id = ?", 7) { try $0.value(0) } == .blob([0, 1, 2, 255]))
        #expect(try database.first("SELECT id FROM t WHERE id = ?", 7) { try $0.value(0) } == .integer(7))
        #expect(try database.first("SELECT name FROM t WHERE id = ?", 8) { try $0.value(0) } == .null)
    }

    @Test(arguments: [
        "a\u{0}b\u{0}",
        "👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, e\u{301}",
        "",
        "large",
    ])
    func textRoundTripsExactly(_ sample: String) throws {
        let text = sample == "large" ? String(repeating: "x€y", count: 210_000) : sample  // 1 MB
        try database.execute("INSERT INTO t(name) VALUES (?)", text)
        let id = database.lastInsertedRowID
        let back = try database.scalar("SELECT name FROM t WHERE id = ?", id, as: String.self)
        #expect(back == text)
        #expect(Array(back!.utf8) == Array(text.utf8))
        #expect(try database.scalar("SELECT length(CAST(name AS BLOB)) FROM t WHERE id = ?", id, as: Int.self) == text.utf8.count)
        #expect(try database.scalar("SELECT typeof(name) FROM t WHERE id = ?", id, as: String.self) == "text")
    }

    @Test func textWithNULIsBoundAndReadWithItsLength() throws {
        let text = "caf\u{e9}\u{0}!"
        try database.execute("INSERT INTO t(name) VALUES (?)", text)
        #expect(try database.scalar("SELECT name FROM t", as: String.self) == text)
        let read = try database.first("SELECT name FROM t") { row in try row.withBytes(0) { Array($0) } }
        #expect(read == Array(text.utf8))
    }

    @Test func constraintViolationCarriesCodesAndSQL() throws {
        try database.execute("INSERT INTO t(name) VALUES ('dup')")
        let error = #expect(throws: SQLiteError.self) {
            try database.execute("INSERT INTO t(name) VALUES ('dup')")
        }
        #expect(error?.resultCode.primary == .constraint)
        #expect(error?.resultCode == .constraintUnique)
        #expect(error.map { ResultCode.constraint ~= $0 } == true)
        #expect(error?.message.contains("UNIQUE constraint failed: t.name") == true)
        #expect(error?.sql == "INSERT INTO t(name) VALUES ('dup')")
        // A primary code catches its extended codes; an extended one only itself.
        var caught = ""
        do { try database.execute("INSERT INTO t(name) VALUES ('dup')") } catch ResultCode.busy { caught = "busy" } catch ResultCode.constraint {
            caught = "constraint"
        } catch { caught = "other" }
        #expect(caught == "constraint")
        #expect(ResultCode.constraintUnique ~= ResultCode.constraintUnique && !(ResultCode.constraintUnique ~= ResultCode.constraint))
    }

    /// The SQL is kept for developers (`sql`, `debugDescription`), never in
    /// the description a user may be shown.
    @Test func syntaxErrorNamesTheSQLToDevelopersOnly() throws {
        let error = #expect(throws: SQLiteError.self) { try database.prepare("SELEC nonsense FROM t") }
        #expect(error?.resultCode == .error)
        #expect(error?.sql == "SELEC nonsense FROM t")
        #expect(error?.debugDescription.contains("SELEC nonsense FROM t") == true)
        #expect(error?.description.contains("(in SQL:") == false && error?.description.contains("nonsense FROM t") == false)
        #expect(error?.message.contains("syntax error") == true)
    }

    @Test func refusesMultipleStatementsWhereOneIsExpected() throws {
        let error = #expect(throws: SQLiteError.self) { try database.prepare("SELECT 1; DROP TABLE t") }
        #expect(error?.message.contains("one SQL statement") == true)
        #expect(try database.scalar("SELECT count(*) FROM sqlite_master WHERE name = 't'", as: Int.self) == 1)
        // A trailing semicolon or comment is still one statement.
        _ = try database.prepare("SELECT 1; ")
        _ = try database.prepare("SELECT 1; -- trailing comment")
    }

    @Test func argumentCountMismatchIsAnError() throws {
        #expect(throws: SQLiteError.self) { try database.execute("INSERT INTO t(name) VALUES (?)", "a", "b") }
        #expect(throws: SQLiteError.self) { try database.prepare("SELECT :x").bind(1, named: ":y") }
        #expect(throws: SQLiteError.self) { try database.first("SELECT 1 AS one") { try $0.get("two", as: Int.self) } }
    }

    @Test func statementCacheReusesAndEvictsFailedStatements() throws {
        let sql = "INSERT INTO t(name) VALUES (?)"
        let first = try database.cached(sql)
        let second = try database.cached(sql)
        #expect(first === second)
        try first.execute(["x"])
        #expect(throws: SQLiteError.self) { try first.execute(["x"]) }
        let third = try database.cached(sql)
        #expect(third !== first)
        try third.execute(["y"])
        #expect(try database.scalar("SELECT count(*) FROM t", as: Int.self) == 2)
    }

    @Test func transactionRollsBackOnThrowAndKeepsTheFirstError() throws {
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try database.transaction {
                try database.execute("INSERT INTO t(name) VALUES ('a')")
                throw Boom()
            }
        }
        #expect(database.isAutocommit)
        #expect(try database.scalar("SELECT count(*) FROM t", as: Int.self) == 0)
        let error = #expect(throws: SQLiteError.self) {
            try database.transaction {
                try database.execute("INSERT INTO t(name) VALUES ('a')")
                try database.execute("INSERT INTO t(name) VALUES ('a')")
            }
        }
        #expect(error.map { ResultCode.constraint ~= $0 } == true)
        #expect(try database.scalar("SELECT count(*) FROM t", as: Int.self) == 0)
        try database.transaction { try database.execute("INSERT INTO t(name) VALUES ('kept')") }
        #expect(try database.scalar("SELECT count(*) FROM t", as: Int.self) == 1)
    }

    /// A report's reads see one snapshot: another connection's commit in the
    /// middle is not seen until the read transaction ends; nested, it joins.
    @Test func aReadTransactionReadsOneSnapshot() throws {
        try database.execute("INSERT INTO t(id, name) VALUES (1, 'a')")
        let reader = try Database(path: folder.path("test.db"), mode: .readOnly)
        let counts = try reader.readTransaction { () throws -> [Int] in
            let first = try reader.scalar("SELECT count(*) FROM t", as: Int.self) ?? -1
            try database.execute("INSERT INTO t(id, name) VALUES (2, 'b')")
            let nested = try reader.readTransaction { try reader.scalar("SELECT count(*) FROM t", as: Int.self) ?? -1 }
            return [first, nested, try reader.scalar("SELECT count(*) FROM t", as: Int.self) ?? -1]
        }
        #expect(counts == [1, 1, 1])
        #expect(reader.isAutocommit)
        #expect(try reader.scalar("SELECT count(*) FROM t", as: Int.self) == 2)
    }

    @Test func nestedSavepointsUndoOnlyTheirOwnWork() throws {
        struct Boom: Error {}
        try database.transaction {
            try database.execute("INSERT INTO t(name) VALUES ('outer')")
            try database.savepoint {
                try database.execute("INSERT INTO t(name) VALUES ('middle')")
                #expect(throws: Boom.self) {
                    try database.savepoint {
                        try database.execute("INSERT INTO t(name) VALUES ('inner')")
                        throw Boom()
                    }
                }
            }
        }
        var names: [String] = []
        try database.forEachRow("SELECT name FROM t ORDER BY id") { try names.append($0.string(0)) }
        #expect(names == ["outer", "middle"])
    }

    @Test func readOnlyConnectionRefusesWrites() throws {
        try database.execute("INSERT INTO t(name) VALUES ('a')")
        let reader = try Database(path: database.path, mode: .readOnly)
        #expect(try reader.scalar("SELECT count(*) FROM t", as: Int.self) == 1)
        let error = #expect(throws: SQLiteError.self) { try reader.execute("INSERT INTO t(name) VALUES ('b')") }
        #expect(error.map { ResultCode.readOnly ~= $0 } == true)
        #expect(try reader.prepare("SELECT 1").isReadOnly)
        #expect(try !reader.prepare("DELETE FROM t").isReadOnly)
    }

    @Test func lockedDatabaseReportsBusy() throws {
        let other = try Database(path: database.path, busyTimeoutMilliseconds: 50)
        try database.execute("BEGIN IMMEDIATE")
        defer { try? database.execute("ROLLBACK") }
        let error = #expect(throws: SQLiteError.self) {
            try other.transaction { try other.execute("INSERT INTO t(name) VALUES ('x')") }
        }
        #expect(error.map { ResultCode.busy ~= $0 } == true)
        #expect(other.isAutocommit)
    }

    @Test func nonDatabaseFileFailsAtOpenNamingThePath() throws {
        let path = folder.path("not-a-db.db")
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: SQLiteError.self) { try Database(path: path) }
        #expect(error?.resultCode == .notADatabase)
        #expect(error?.message.contains(path) == true)
    }

    @Test func corruptPagesAreReportedByIntegrityCheck() throws {
        let path = folder.path("corrupt.db")
        do {
            let db = try Database(path: path)
            try db.executeScript("PRAGMA journal_mode=DELETE; CREATE TABLE big(x TEXT); CREATE INDEX big_x ON big(x);")
            try db.transaction {
                for i in 0..<2000 { try db.execute("INSERT INTO big VALUES (?)", "row \(i) " + String(repeating: "z", count: 100)) }
            }
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 4096 * 3)
        handle.write(Data(repeating: 0xFF, count: 4096 * 4))
        try handle.close()
        let opened = try? Database(path: path)
        let outcome: String
        if let opened {
            do {
                outcome = try opened.scalar("PRAGMA integrity_check", as: String.self) ?? ""
            } catch let error as SQLiteError {
                outcome = error.message
            }
        } else {
            outcome = "failed to open"
        }
        #expect(outcome != "ok")
    }

    @Test func missingFileInReadOnlyModeFailsNamingThePath() throws {
        let path = folder.path("missing.db")
        let error = #expect(throws: SQLiteError.self) { try Database(path: path, mode: .readOnly) }
        #expect(error?.message.contains(path) == true)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func rowCursorVisitsEveryRowWithoutCollecting() throws {
        try database.transaction {
            let insert = try database.cached("INSERT INTO t(score) VALUES (?)")
            for i in 0..<1000 { try insert.execute([Double(i)]) }
        }
        var sum = 0.0, count = 0
        try database.prepare("SELECT score FROM t").forEachRow { row in
            try sum += row.double(0)
            count += 1
        }
        #expect(count == 1000 && sum == 499_500)
        #expect(database.changes == 1)
    }

    @Test func readsRefuseNullIntoNonOptionalAndColumnsOutOfRange() throws {
        try database.execute("INSERT INTO t(id, name, score) VALUES (1, NULL, NULL)")
        try database.forEachRow("SELECT id, name, score FROM t") { row throws in
            let null = #expect(throws: SQLiteError.self) { try row.string(1) }
            #expect(null?.message == "column 1 (name) is NULL, read as String")
            #expect(throws: SQLiteError.self) { try row.double(2) }
            #expect(throws: SQLiteError.self) { try row.int(2) }
            #expect(throws: SQLiteError.self) { try row.int64(2) }
            #expect(throws: SQLiteError.self) { try row.get(2, as: Bool.self) }
            #expect(throws: SQLiteError.self) { try row.blob(1) }
            #expect(try row.optionalString(1) == nil)
            #expect(try row.optionalDouble(2) == nil)
            #expect(try row.int(0) == 1)
            let range = #expect(throws: SQLiteError.self) { try row.value(3) }
            #expect(range?.message == "no column 3: the row has 3")
            #expect(throws: SQLiteError.self) { try row.int(-1) }
            #expect(throws: SQLiteError.self) { try row.isNull(3) }
            #expect(throws: SQLiteError.self) { try row.withBytes(7) { $0.count } }
        }
        // A stored 0 is a value: integer reads ask the type only of a 0, and find it is not NULL.
        #expect(try database.first("SELECT 0, 0, 0") { try ($0.int(0), $0.int64(1), $0.get(2, as: Bool.self)) } ?? (1, 1, true) == (0, 0, false))
        #expect(throws: SQLiteError.self) { try database.scalar("SELECT max(score) FROM t", as: Double.self) }
        #expect(try database.scalar("SELECT max(score) FROM t", as: Double?.self) == .some(nil))
    }

    @Test func aStatementRunFromItsOwnRowHandlerIsRefused() throws {
        for id in 1...3 { try database.execute("INSERT INTO t(id) VALUES (?)", id) }
        let sql = "SELECT id FROM t ORDER BY id"
        var seen: [Int] = []
        try database.cached(sql).forEachRow() { row in
            seen.append(try row.int(0))
            // Asking the cache for the running statement would reset the outer cursor.
            #expect(throws: SQLiteError.self) { try database.cached(sql).scalar(as: Int.self) }
            // Other SQL, and the same SQL prepared anew, run beside it.
            #expect(try database.scalar(sql, as: Int.self) == 1)
        }
        #expect(seen == [1, 2, 3])
        let statement = try database.prepare(sql)
        try statement.forEachRow { _ in
            #expect(throws: SQLiteError.self) { try statement.execute() }
        }
        #expect(try database.cached(sql).scalar(as: Int.self) == 1)  // usable again once done
    }

    @Test func onlySQLChosenForTheCacheIsCached() throws {
        for size in 0..<50 { try database.execute("PRAGMA cache_size = \(-2000 - size)") }
        try database.transaction { try database.savepoint { try database.execute("INSERT INTO t(id) VALUES (1)") } }
        _ = try database.scalar("SELECT count(*) FROM t", as: Int.self)
        #expect(Set(database.statementCache.keys) == ["BEGIN IMMEDIATE", "COMMIT"])
        try database.cached("INSERT INTO t(id) VALUES (?)").execute([2])
        #expect(database.statementCache.keys.contains("INSERT INTO t(id) VALUES (?)"))
    }

    @Test func columnNamesAndCounts() throws {
        let statement = try database.prepare("SELECT 1 AS a, 'x' AS b")
        #expect(statement.columnNames == ["a", "b"])
        #expect(statement.columnCount == 2)
        #expect(statement.parameterCount == 0)
    }
}

@Suite struct FTS5TokenReplayTests {
    static let spec = "porter unicode61 remove_diacritics 2"
    static let documents = ["Renewals are renewing: the café's Q3 clause", "ÀB 123 x-y", "", "one two one"]

    func instances(_ database: Database, _ table: String) throws -> [String] {
        try database.executeScript("CREATE VIRTUAL TABLE temp.\(table)_vocab USING fts5vocab(main, \(table), 'instance')")
        var rows: [String] = []
        try database.forEachRow("SELECT term, doc, col, offset FROM \(table)_vocab ORDER BY term, doc, offset") {
            try rows.append("\($0.string(0)) \($0.int(1)) \($0.int(3))")
        }
        return rows
    }

    @Test func replayedTokensIndexExactlyAsTheTokenizerWould() throws {
        let folder = try TemporaryDirectory()
        let database = try Database(path: folder.path("fts.db"))
        let replay = try FTS5TokenReplay(database: database, name: "porter")
        try database.executeScript("""
            CREATE VIRTUAL TABLE replayed USING fts5(body, content = '', tokenize = '\(Self.spec)');
            CREATE VIRTUAL TABLE direct USING fts5(body, content = '', tokenize = '\(Self.spec)');
            """)
        let tokenizer = try FTS5Tokenizer(database: Database(path: ":memory:"), spec: Self.spec)
        var tokens = FTS5Tokens()
        for document in Self.documents { try tokenizer.tokenize(document, into: &tokens) }
        #expect(tokens.documentCount == Self.documents.count)
        for (index, document) in Self.documents.enumerated() {
            replay.next = (tokens, index)
            try database.execute("INSERT INTO replayed(rowid, body) VALUES (?, ?)", index + 1, document)
            #expect(replay.next == nil || document.isEmpty)
            replay.next = nil
            try database.execute("INSERT INTO direct(rowid, body) VALUES (?, ?)", index + 1, document)
        }
        let replayed = try instances(database, "replayed")
        #expect(replayed.count == 15)
        #expect(replayed == (try instances(database, "direct")))
        #expect(try database.scalar("SELECT count(*) FROM replayed WHERE replayed MATCH 'renew café'", as: Int.self) == 1)

        // The index takes the tokens handed to it, not the text's (this is how they must agree).
        var other = FTS5Tokens()
        try tokenizer.tokenize("abcde", into: &other)
        replay.next = (other, 0)
        try database.execute("INSERT INTO replayed(rowid, body) VALUES (8, 'zzzzz')")
        #expect(try database.scalar("SELECT rowid FROM replayed WHERE replayed MATCH 'abcde'", as: Int.self) == 8)
        #expect(try database.scalar("SELECT count(*) FROM replayed WHERE replayed MATCH 'zzzzz'", as: Int.self) == 0)

        // Tokens of another length are not used: the original tokenizer does the work.
        replay.next = (tokens, 1)
        try database.execute("INSERT INTO replayed(rowid, body) VALUES (9, 'zebra')")
        #expect(replay.next == nil)
        #expect(try database.scalar("SELECT count(*) FROM replayed WHERE replayed MATCH 'zebra'", as: Int.self) == 1)
    }
}
