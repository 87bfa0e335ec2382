import SQLiteCore

/// `archive export`: JSONL, one session a line exactly as the retrieve endpoint
/// returned it (same keys and values).
public struct Exporter {
    public var project: String?
    public var window: TimeWindow = .unbounded
    public var sessionIDs: [String] = []

    public init() {}

    /// Calls `write` once per session line (without the newline); returns how many.
    @discardableResult
    public func run(store: ArchiveStore, write: (String) throws -> Void) throws -> Int {
        var ids: [String] = []
        if sessionIDs.isEmpty {
            try store.database.forEachRow("""
                SELECT session_id FROM sessions
                WHERE (?1 IS NULL OR project_id = ?1) AND last_updated_at >= ?2 AND last_updated_at < ?3
                ORDER BY last_updated_at, session_id
                """, project, window.since ?? "", window.until ?? "9999") { try ids.append($0.string(0)) }
        } else {
            ids = sessionIDs
        }
        var count = 0
        for id in ids {
            guard let json = try store.sessionJSON(sessionID: id) else { throw ArchiveError.unknownSession(id) }
            try write(json)
            count += 1
        }
        return count
    }
}
