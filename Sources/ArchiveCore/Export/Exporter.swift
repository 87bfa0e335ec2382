/// `archive export`: JSONL, one session a line exactly as the retrieve endpoint
/// returned it (same keys and values).
public struct Exporter {
    public var project: String?
    public var window: TimeWindow = .unbounded
    public var sessionIDs: [String] = []
    /// Only sessions of these sources, by name (empty: all).
    public var sources: [String] = []

    public init() {}

    /// Calls `write` once per session line (without the newline); returns how many.
    @discardableResult
    public func run(reader: ArchiveReader, write: (String) throws -> Void) throws -> Int {
        let ids = sessionIDs.isEmpty ? try reader.sessionIDs(project: project, window: window, sources: sources) : sessionIDs
        var count = 0
        for id in ids {
            guard let json = try reader.sessionKey(typed: id).flatMap(reader.sessionJSON(sessionKey:)) else { throw ArchiveError.unknownSession(id) }
            try write(json)
            count += 1
        }
        return count
    }
}

extension ArchiveReader {
    /// The sessions of a project (or all) last updated in the window, oldest first.
    /// Ids as typed: `SOURCE:ID` outside the default source.
    public func sessionIDs(project: String?, window: TimeWindow, sources: [String] = []) throws -> [String] {
        var ids: [String] = []
        try database.forEachRow("""
            SELECT \(SourceSQL.qualifiedID("sessions")) FROM sessions
            WHERE (?1 IS NULL OR project_id = ?1) AND last_updated_at >= ?2 AND last_updated_at < ?3
              AND \(SourceSQL.allows("source_key", parameter: "?4"))
            ORDER BY last_updated_at, session_id, source_key
            """, project, window.since ?? "", window.until ?? "9999", TimeWindow.jsonList(sources)) { try ids.append($0.string(0)) }
        return ids
    }
}
