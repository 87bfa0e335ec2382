import SQLiteCore

/// `sessions.change_seq` and `forgotten.change_seq` (Migrations/0011): each
/// write transaction that changes sessions gives them one number, the next
/// after every number written before, so that a dataset export can take
/// what changed since its last one.
extension ArchiveWriter {
    func changeNumber() throws -> Int64 {
        if let number = pending.changeNumber { return number }
        let number = try database.cached("""
            SELECT max((SELECT coalesce(max(change_seq), 0) FROM sessions), (SELECT coalesce(max(change_seq), 0) FROM forgotten)) + 1
            """).scalar(as: Int64.self) ?? 1
        pending.changeNumber = number
        return number
    }
}
