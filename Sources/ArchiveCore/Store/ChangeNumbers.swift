import SQLiteCore

/// `sessions.change_seq`, `forgotten.change_seq` and `content_removals.change_seq`
/// (Migrations/0011, 0019): each write transaction that changes sessions
/// gives them one number, the next after every number given before, so that
/// a dataset export can take what changed since its last one. The last
/// number given is kept in `archive_settings` (`last_change_seq`), in the
/// same transaction: deleting the rows that held the highest number (a
/// forgotten session's) never lets a number be given twice.
extension ArchiveWriter {
    func changeNumber() throws -> Int64 {
        if let number = pending.changeNumber { return number }
        let number = try database.cached("SELECT \(Self.lastChangeNumberSQL) + 1").scalar(as: Int64.self) ?? 1
        try database.cached("""
            INSERT INTO archive_settings(name, value) VALUES ('last_change_seq', ?)
            ON CONFLICT(name) DO UPDATE SET value = excluded.value
            """).execute([number])
        pending.changeNumber = number
        return number
    }

    /// The last change number given: the one kept, or for an archive written
    /// before it was kept, the highest any row holds.
    static let lastChangeNumberSQL = """
        max(coalesce((SELECT CAST(value AS INTEGER) FROM archive_settings WHERE name = 'last_change_seq'), 0),
            (SELECT coalesce(max(change_seq), 0) FROM sessions), (SELECT coalesce(max(change_seq), 0) FROM forgotten))
        """
}
