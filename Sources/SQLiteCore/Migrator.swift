import CSQLite

/// One schema step, applied once and recorded.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case schemaNewerThanCode(path: String, databaseVersion: Int, latestKnown: Int)
    case failed(version: Int, name: String, reason: String)
    case duplicateVersion(Int)

    public var description: String {
        switch self {
        case let .schemaNewerThanCode(path, databaseVersion, latestKnown):
            return "\(path) has schema version \(databaseVersion), newer than this binary knows (\(latestKnown)); upgrade the tool"
        case let .failed(version, name, reason):
            return "migration \(version) \(name) failed: \(reason)"
        case let .duplicateVersion(version):
            return "two migrations have version \(version)"
        }
    }
}

/// Applies migrations in version order, each in its own transaction, and
/// records them in `schema_migrations` with the time applied.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(_ migrations: [Migration]) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw MigrationError.duplicateVersion(next.version)
        }
        self.migrations = sorted
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The highest version recorded in `database` (0 for a new one).
    public func appliedVersion(of database: Database) throws -> Int {
        let hasTable = try database.scalar(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'", as: Int.self) ?? 0
        guard hasTable > 0 else { return 0 }
        return try database.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations", as: Int.self) ?? 0
    }

    /// Refuses a schema newer than this code, changing nothing.
    public func checkNotNewer(_ database: Database) throws {
        let applied = try appliedVersion(of: database)
        if applied > latestVersion {
            throw MigrationError.schemaNewerThanCode(path: database.path, databaseVersion: applied, latestKnown: latestVersion)
        }
    }

    /// Applies what is missing; returns the migrations applied now.
    @discardableResult
    public func migrate(_ database: Database, upTo lastVersion: Int = .max, now: () -> String) throws -> [Migration] {
        try checkNotNewer(database)
        var applied: [Migration] = []
        for migration in migrations where migration.version <= lastVersion {
            let didApply: Bool = try database.transaction {
                try database.execute("""
                    CREATE TABLE IF NOT EXISTS schema_migrations(
                      version INTEGER PRIMARY KEY,
                      name TEXT NOT NULL,
                      applied_at TEXT NOT NULL)
                    """)
                // Re-checked inside the write lock: another process may have migrated meanwhile.
                let done = try database.scalar("SELECT count(*) FROM schema_migrations WHERE version = ?",
                                               migration.version, as: Int.self) ?? 0
                if done > 0 { return false }
                do {
                    try database.executeScript(migration.sql)
                } catch let error as SQLiteError {
                    throw MigrationError.failed(version: migration.version, name: migration.name, reason: error.message)
                }
                // A migration that rebuilds tables with foreign keys deferred
                // would otherwise commit whatever dangling references it left.
                if migration.sql.contains("defer_foreign_keys"),
                   let dangling = try database.first("PRAGMA foreign_key_check", map: { row in try row.string(0) }) {
                    throw MigrationError.failed(version: migration.version, name: migration.name,
                                                reason: "it leaves rows of \(dangling) whose foreign key points nowhere")
                }
                try database.execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                                     migration.version, migration.name, now())
                return true
            }
            if didApply { applied.append(migration) }
        }
        return applied
    }
}
