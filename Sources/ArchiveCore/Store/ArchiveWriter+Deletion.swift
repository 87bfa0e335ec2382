import SQLiteCore

/// Sessions the API no longer has: marked, never removed.
extension ArchiveWriter {
    /// Marks one session deleted remotely (it answered 404). Keeps its data.
    @discardableResult
    public func markDeleted(sessionID: String, source: SourceKey = .default, at now: String) throws -> Bool {
        try atomically {
            try database.execute("""
                UPDATE sessions SET deleted_at = ?, change_seq = ? WHERE session_id = ? AND source_key = ? AND deleted_at IS NULL
                """, now, try changeNumber(), sessionID, source.rawValue)
            let marked = database.changes
            addToCounts(ArchiveCounts.Delta(deletedSessions: marked))
            return marked > 0
        }
    }

    /// After a complete listing of a project: marks the live sessions of that
    /// project that the listing did not contain. Returns how many.
    public func markMissingDeleted(projectID: String?, source: SourceKey = .default, listed: [String], at now: String) throws -> Int {
        try atomically {
            try database.executeScript("CREATE TEMP TABLE IF NOT EXISTS listed_ids(session_id TEXT PRIMARY KEY) WITHOUT ROWID")
            try database.execute("DELETE FROM temp.listed_ids")
            let insert = try database.cached("INSERT OR IGNORE INTO temp.listed_ids VALUES (?)")
            for id in listed { try insert.execute([id]) }
            try database.execute("""
                UPDATE sessions SET deleted_at = ?, change_seq = ?
                WHERE project_id IS ? AND source_key = ? AND deleted_at IS NULL
                  AND session_id NOT IN (SELECT session_id FROM temp.listed_ids)
                """, now, try changeNumber(), projectID, source.rawValue)
            let marked = database.changes
            addToCounts(ArchiveCounts.Delta(deletedSessions: marked))
            try database.execute("DELETE FROM temp.listed_ids")
            return marked
        }
    }
}
