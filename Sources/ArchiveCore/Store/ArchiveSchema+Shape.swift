import SQLiteCore
import LlamaCloudClient

/// An archive file from elsewhere (`import OTHER.db`, `restore`, a backup
/// being purged) is read only once its schema is exactly what this binary's
/// migrations make at the file's version: a view, trigger, table or index
/// that is not ours, or one of ours changed, could run without end, delete
/// rows on the next write, or feed the merge what it never stored.
extension ArchiveSchema {
    /// One row of `sqlite_master`, its SQL without comments and with white space folded.
    struct SchemaEntry: Sendable, Equatable {
        let type: String
        let name: String
        let table: String
        let sql: String?

        var label: String { "\(type) \(Printable.clean(name, limit: 80))" }
    }

    /// How long reading a file's schema may take before it is refused.
    static let schemaReadSeconds = 5.0
    /// More entries than any archive has: a `sqlite_master` this long is not ours.
    static let maximumSchemaEntries = 2_000

    /// An archive file from elsewhere, open for reading once its schema and
    /// pages are found to be an archive's (`trusted_schema=OFF` meanwhile).
    static func openFromElsewhere(_ path: String) throws -> Database {
        let database: Database
        do { database = try Database(path: path, mode: .readOnly, trustingSchema: false) } catch let error as SQLiteError {
            throw ArchiveError.unusableArchive(path: path, reason: error.message)
        }
        try verifyShape(of: database, path: path)
        try verifyPages(of: database, path: path)
        return database
    }

    /// Refuses the file open in `database` (as `ArchiveError.unusableArchive`,
    /// naming its first difference) unless its schema is the one this
    /// binary makes at the file's version. Reads `sqlite_master` and
    /// `schema_migrations` only, each within `schemaReadSeconds`.
    private static func verifyShape(of database: Database, path: String) throws {
        func refuse(_ reason: String) -> ArchiveError { .unusableArchive(path: path, reason: reason) }
        do {
            let found = try database.limitingTime(seconds: schemaReadSeconds) { try entries(of: database) }
            guard found.count <= maximumSchemaEntries else {
                throw refuse("its schema has more than \(maximumSchemaEntries) entries; an archive's has about \(latestShape.count)")
            }
            let ledger = latestShape.first { $0.name == "schema_migrations" }
            guard let recorded = found.first(where: { $0.name == "schema_migrations" }) else {
                throw refuse(found.isEmpty ? "it holds no archive (it is an empty SQLite file)" : foreignReason)
            }
            guard recorded == ledger else { throw refuse("its schema_migrations is not an archive's") }
            let version = try database.limitingTime(seconds: schemaReadSeconds) {
                try database.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations", as: Int.self) ?? 0
            }
            guard version <= ArchiveSchema.version else {
                throw refuse(MigrationError.schemaNewerThanCode(path: path, databaseVersion: version, latestKnown: ArchiveSchema.version)
                    .description.replacingOccurrences(of: "\(path) has", with: "it has"))
            }
            if let difference = firstDifference(found, from: try shape(atVersion: version)) {
                throw refuse("its schema differs from an archive's at version \(version): \(difference)")
            }
        } catch ResultCode.interrupted {
            throw refuse("reading its schema took more than \(Int(schemaReadSeconds)) s")
        } catch let error as SQLiteError {
            throw refuse(error.message)
        }
    }

    /// What differs, first in the file's own order: an entry that is not
    /// ours, or one of ours changed; then one of ours that is missing.
    static func firstDifference(_ found: [SchemaEntry], from expected: [SchemaEntry]) -> String? {
        let byKey = Dictionary(expected.map { ("\($0.type) \($0.name)", $0) }, uniquingKeysWith: { first, _ in first })
        // FTS5 makes its shadow tables itself, their SQL as its version writes it.
        let shadowTables = Set(expected.filter { $0.sql?.hasPrefix("CREATE VIRTUAL TABLE") == true }.flatMap { table in
            ["data", "idx", "content", "docsize", "config"].map { "\(table.name)_\($0)" }
        })
        for entry in found {
            guard let ours = byKey["\(entry.type) \(entry.name)"] else { return "\(entry.label) is not part of it" }
            if entry.table != ours.table || (entry.sql != ours.sql && !(entry.type == "table" && shadowTables.contains(entry.name))) {
                return "\(entry.label) is not as the migrations make it"
            }
        }
        let present = Set(found.map { "\($0.type) \($0.name)" })
        return expected.first { !present.contains("\($0.type) \($0.name)") }.map { "\($0.label) is missing" }
    }

    static func entries(of database: Database) throws -> [SchemaEntry] {
        var entries: [SchemaEntry] = []
        try database.forEachRow("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid LIMIT ?", maximumSchemaEntries + 1) { row in
            entries.append(SchemaEntry(type: try row.string(0), name: try row.string(1), table: try row.string(2),
                                       sql: try row.optionalString(3).map(foldedSQL)))
        }
        return entries
    }

    /// The schema this binary's migrations make, at its latest version.
    static let latestShape: [SchemaEntry] = (try? migratedShape(atVersion: version)) ?? []

    /// The schema a new archive has after the migrations up to `version`.
    static func shape(atVersion version: Int) throws -> [SchemaEntry] {
        version == ArchiveSchema.version && !latestShape.isEmpty ? latestShape : try migratedShape(atVersion: version)
    }

    private static func migratedShape(atVersion version: Int) throws -> [SchemaEntry] {
        let scratch = try Database(path: ":memory:")
        try migrator.migrate(scratch, upTo: version) { "" }
        return try entries(of: scratch)
    }

    /// SQL as a schema compares it: comments dropped and runs of white space
    /// made one space, outside quoted names and strings.
    static func foldedSQL(_ sql: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(sql.utf8)
        var index = 0
        var pendingSpace = false
        while index < bytes.count {
            let byte = bytes[index]
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0
            if byte == UInt8(ascii: "-") && next == UInt8(ascii: "-") {
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
                pendingSpace = true
                continue
            }
            if byte == UInt8(ascii: "/") && next == UInt8(ascii: "*") {
                index += 2
                while index < bytes.count && !(bytes[index] == UInt8(ascii: "*") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "/")) {
                    index += 1
                }
                index += 2
                pendingSpace = true
                continue
            }
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                pendingSpace = true
                index += 1
                continue
            }
            if pendingSpace && !out.isEmpty { out.append(0x20) }
            pendingSpace = false
            let closing: UInt8? = switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"): byte
            case UInt8(ascii: "["): UInt8(ascii: "]")
            default: nil
            }
            out.append(byte)
            index += 1
            if let closing {
                while index < bytes.count {
                    out.append(bytes[index])
                    index += 1
                    if bytes[index - 1] == closing { break }
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// SQLite's quick check of every page of a file from elsewhere, before
    /// anything of it is merged: a truncated file or a page of garbage is
    /// refused whole, not found halfway through a merge.
    private static func verifyPages(of database: Database, path: String) throws {
        let first: String?
        do { first = try database.first("PRAGMA quick_check(1)") { try $0.string(0) } } catch let error as SQLiteError {
            throw ArchiveError.unusableArchive(path: path, reason: error.message)
        }
        if let first, first != "ok" {
            throw ArchiveError.unusableArchive(path: path, reason: "it fails SQLite's check: \(Printable.clean(first, limit: 200))")
        }
    }
}
