import CSQLite

extension Database {
    /// Copies this database, as it is at one instant, into `destination`
    /// (SQLite's online backup API, in one step). The copy reads one snapshot:
    /// in WAL mode that is a read transaction, which never blocks a writer on
    /// another connection, and a write that commits meanwhile is simply not
    /// in the copy. `destination`'s own content is replaced in one write
    /// transaction, so its readers see the old file or the new, never half.
    public func copy(into destination: Database) throws {
        let source = try openHandle(for: "backup")
        let target = try destination.openHandle(for: "backup")
        guard let backup = sqlite3_backup_init(target, "main", source, "main") else {
            throw SQLiteError(code: sqlite3_extended_errcode(target), connection: target)
        }
        var code = SQLITE_OK
        var waits = 0
        repeat {
            code = sqlite3_backup_step(backup, -1)
            if code == SQLITE_BUSY || code == SQLITE_LOCKED {
                waits += 1
                sqlite3_sleep(20)
            }
        } while code == SQLITE_OK || ((code == SQLITE_BUSY || code == SQLITE_LOCKED) && waits < 250)  // 5 s at most
        let finished = sqlite3_backup_finish(backup)
        guard code == SQLITE_DONE else { throw SQLiteError(code: code, connection: target) }
        guard finished == SQLITE_OK else { throw SQLiteError(code: finished, connection: target) }
    }
}
