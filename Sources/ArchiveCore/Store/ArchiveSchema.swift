import Foundation
import SQLiteCore

/// What every connection to an archive agrees on: the migrations the binary
/// carries, the page size, the search tokenizer, and how a SQLite file of
/// another program is told apart.
public enum ArchiveSchema {
    static let migrator = try! Migrator(EmbeddedMigrations.all)

    /// The schema version this binary writes.
    public static var version: Int { migrator.latestVersion }

    /// Pages of 16 KB rather than 4 KB: search index segments and event rows
    /// fill them with less waste (about 3% of the file) and bulk writes touch fewer pages.
    static let pageSize = 16384

    /// The tokenizer of `search_index` (Migrations/0002).
    public static let searchTokenizer = SearchTokenizer.spec

    static let foreignReason = "it is a SQLite file of another program (it has no schema_migrations), left as it is"

    /// A SQLite file that holds tables but is no archive belongs to another
    /// program: refused before anything (not even the journal mode) changes it.
    static func refuseForeignDatabase(at path: String) throws {
        guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size > 0 else { return }
        let database = try Database(path: path, mode: .readOnly)
        let tables = try database.scalar("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'", as: Int.self) ?? 0
        if tables > 0, try migrator.appliedVersion(of: database) == 0 {
            throw ArchiveError.unusableArchive(path: path, reason: foreignReason)
        }
    }

    /// SQLite's and the migrator's failures as the archive's own.
    static func opening<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError {
            throw ArchiveError.unusableArchive(path: path, reason: error.message)
        } catch let error as MigrationError {
            throw ArchiveError.unusableArchive(path: path, reason: error.description)
        }
    }
}
