import TestSupport
import Testing
@testable import SQLiteCore

@Suite struct MigratorTests {
    let folder: TemporaryDirectory
    init() throws { folder = try TemporaryDirectory() }

    let steps = [
        Migration(version: 1, name: "create", sql: "CREATE TABLE a(x INTEGER);"),
        Migration(version: 2, name: "add", sql: "ALTER TABLE a ADD COLUMN y TEXT; CREATE INDEX a_y ON a(y);"),
    ]

    @Test func appliesInOrderOnceAndRecordsTime() throws {
        let database = try Database(path: folder.path("m.db"))
        let migrator = try Migrator(steps.reversed())
        let applied = try migrator.migrate(database) { "2026-01-01T00:00:00.000000Z" }
        #expect(applied.map(\.version) == [1, 2])
        #expect(try migrator.migrate(database) { "later" }.isEmpty)
        #expect(try migrator.appliedVersion(of: database) == 2)
        var records: [String] = []
        try database.forEachRow("SELECT version, name, applied_at FROM schema_migrations ORDER BY version") {
            try records.append("\($0.int(0)) \($0.string(1)) \($0.string(2))")
        }
        #expect(records == ["1 create 2026-01-01T00:00:00.000000Z", "2 add 2026-01-01T00:00:00.000000Z"])
    }

    @Test func failedStepLeavesEarlierStepsAndNothingOfItself() throws {
        let database = try Database(path: folder.path("m.db"))
        let broken = try Migrator(steps + [Migration(version: 3, name: "bad", sql: "CREATE TABLE b(x); CREATE TABLE a(x);")])
        let error = #expect(throws: MigrationError.self) { try broken.migrate(database) { "t" } }
        #expect(error?.description.contains("migration 3 bad failed") == true)
        #expect(try broken.appliedVersion(of: database) == 2)
        #expect(try database.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'b'", as: Int.self) == 0)
    }

    @Test(arguments: [true, false])
    func aRebuildWithDeferredForeignKeysThatLeavesDanglingRowsIsRolledBack(enforced: Bool) throws {
        let database = try Database(path: folder.path("m.db"))
        try database.execute("PRAGMA foreign_keys = \(enforced ? "ON" : "OFF")")
        let parents = [
            Migration(version: 1, name: "parents", sql: "CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p INTEGER REFERENCES p(id));"
                + "INSERT INTO p VALUES (1), (2); INSERT INTO c VALUES (1), (2);"),
        ]
        try Migrator(parents).migrate(database) { "t" }
        // As Migrations/0005 rebuilds event_types: saved, dropped, made again, filled.
        let rebuild = """
            PRAGMA defer_foreign_keys = ON;
            CREATE TEMP TABLE saved AS SELECT id FROM p;
            DROP TABLE p;
            CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT);
            INSERT INTO p(id) SELECT id FROM saved WHERE id = 1;
            DROP TABLE saved;
            """
        let lossy = try Migrator(parents + [Migration(version: 2, name: "rebuild", sql: rebuild)])
        let error = #expect(throws: MigrationError.self) { try lossy.migrate(database) { "t" } }
        #expect(error?.description == "migration 2 rebuild failed: it leaves rows of c whose foreign key points nowhere")
        #expect(try lossy.appliedVersion(of: database) == 1)
        #expect(try database.scalar("SELECT count(*) FROM p", as: Int.self) == 2)
        // The same rebuild keeping every parent applies.
        let kept = try Migrator(parents + [Migration(version: 2, name: "rebuild", sql: rebuild.replacingOccurrences(of: " WHERE id = 1", with: ""))])
        #expect(try kept.migrate(database) { "t" }.map(\.version) == [2])
        #expect(try database.scalar("SELECT count(*) FROM p", as: Int.self) == 2)
    }

    @Test func refusesNewerSchemaChangingNothing() throws {
        let path = folder.path("m.db")
        let database = try Database(path: path)
        try Migrator(steps).migrate(database) { "t" }
        let older = try Migrator([steps[0]])
        let before = try database.scalar("SELECT count(*) FROM schema_migrations", as: Int.self)
        let error = #expect(throws: MigrationError.self) { try older.migrate(database) { "t" } }
        #expect(error == .schemaNewerThanCode(path: path, databaseVersion: 2, latestKnown: 1))
        #expect(try database.scalar("SELECT count(*) FROM schema_migrations", as: Int.self) == before)
    }

    @Test func duplicateVersionsAreRejected() {
        #expect(throws: MigrationError.duplicateVersion(1)) { try Migrator([steps[0], steps[0]]) }
    }
}
