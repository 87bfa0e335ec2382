import LosslessJSON
import SQLiteCore

/// Reading sessions back as the API sent them.
extension ArchiveReader {
    /// The session JSON as the retrieve endpoint returned it (same keys and values).
    public func sessionJSON(sessionID: String) throws -> String? {
        guard let (key, meta) = try database.cached(
            "SELECT session_key, meta FROM sessions WHERE session_id = ?").first([sessionID], map: { try ($0.int64(0), $0.string(1)) })
        else { return nil }
        return try SessionJSON.session(meta: meta) { writer in
            var first = true
            try database.cached(
                Self.historySQL).forEachRow([EventKey.range(session: key).first, EventKey.range(session: key).last]) { row in
                if !first { writer.writeRaw(",") }
                first = false
                try SessionJSON.event(type: row.optionalString(0), content: row.optionalString(1),
                                  callID: row.optionalString(2), name: row.optionalString(3),
                                  payload: row.optionalString(4), layout: row.optionalString(5), into: &writer)
            }
        }
    }
}

extension ArchiveReader {
    /// Sessions whose project is none of `projects` (or none at all).
    public func sessionCount(outsideProjects projects: [String]) throws -> Int {
        var count = 0
        try database.forEachRow("SELECT project_id FROM sessions") { row in
            if try !(row.optionalString(0).map(projects.contains) ?? false) { count += 1 }
        }
        return count
    }
}

/// What a session id a person typed stands for.
public enum SessionLookup: Equatable, Sendable {
    case found(String)
    /// A prefix of several ids: up to ten of them.
    case ambiguous([String])
    /// No such id or prefix: up to ten ids that share the longest prefix with it.
    case unknown(closest: [String])
}

extension ArchiveReader {
    /// An exact id, or a prefix of exactly one.
    public func lookUpSession(_ text: String) throws -> SessionLookup {
        if try database.first("SELECT 1 FROM sessions WHERE session_id = ?", text, map: { _ in true }) == true {
            return .found(text)
        }
        let matches = try sessions(startingWith: text, limit: 11)
        if matches.count == 1 { return .found(matches[0]) }
        if !matches.isEmpty { return .ambiguous(Array(matches.prefix(10))) }
        var prefix = Substring(text).dropLast()
        while !prefix.isEmpty {
            defer { prefix = prefix.dropLast() }
            let closest = try sessions(startingWith: String(prefix), limit: 10)
            if !closest.isEmpty { return .unknown(closest: closest) }
        }
        return .unknown(closest: [])
    }

    private func sessions(startingWith prefix: String, limit: Int) throws -> [String] {
        var ids: [String] = []
        // A range of the unique index: every id that starts with the prefix.
        try database.forEachRow("""
            SELECT session_id FROM sessions WHERE session_id >= ?1 AND session_id < ?1 || char(1114111)
            ORDER BY session_id LIMIT ?2
            """, prefix, limit) { try ids.append($0.string(0)) }
        return ids
    }
}

/// What a writer asks before it saves: is the session archived, and as which source.
extension ArchiveReader {
    /// A session's stored events in order, as the columns the API's fields went to.
    static let historySQL = """
        SELECT t.type, t.content, t.call_id, t.name, t.payload, k.layout
        FROM typed_events t JOIN event_rows r ON r.event_key = t.event_key
        LEFT JOIN event_types k ON k.type_id = r.type_id
        WHERE t.event_key BETWEEN ? AND ? ORDER BY t.event_key
        """

    /// The archived `last_updated_at` of a session (normalised), if archived.
    public func archivedLastUpdated(sessionID: String) throws -> (lastUpdatedAt: String, deleted: Bool)? {
        try database.cached("SELECT last_updated_at, deleted_at IS NOT NULL FROM sessions WHERE session_id = ?").first([sessionID]) {
            try ($0.string(0), $0.get(1, as: Bool.self))
        }
    }

    /// The source hashes of the live sessions, for an import to skip records it already holds.
    public func liveSourceHashes() throws -> [SourceHash: String] {
        var hashes: [SourceHash: String] = [:]
        try database.forEachRow("SELECT source_hash, session_id FROM sessions WHERE source_hash IS NOT NULL AND deleted_at IS NULL") {
            if let hash = SourceHash(bytes: try $0.blob(0)) { hashes[hash] = try $0.string(1) }
        }
        return hashes
    }

    /// The archive's own key of `SourceHash` (made by migration 4).
    public func sourceHashKey() throws -> SourceHash.Key {
        guard let bytes = try database.first("SELECT value FROM archive_settings WHERE name = 'source_hash_key'", map: { try $0.blob(0) }),
              let key = SourceHash.Key(bytes) else {
            throw ArchiveError.unusableArchive(path: path, reason: "it has no source hash key")
        }
        return key
    }
}
