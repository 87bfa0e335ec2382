import LosslessJSON
import SQLiteCore

/// Reading sessions back as the API sent them.
extension ArchiveReader {
    /// The session JSON as the retrieve endpoint returned it (same keys and values).
    public func sessionJSON(sessionID: String, source: SourceKey = .default) throws -> String? {
        guard let key = try database.cached("SELECT session_key FROM sessions WHERE session_id = ? AND source_key = ?")
            .scalar([sessionID, source.rawValue], as: Int64.self) else { return nil }
        return try sessionJSON(sessionKey: key)
    }

    /// `sessionJSON` of the session stored under `key`.
    public func sessionJSON(sessionKey key: Int64) throws -> String? {
        guard let meta = try database.cached("SELECT meta FROM sessions WHERE session_key = ?").scalar([key], as: String.self)
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
    /// An id held by several sources: each as `SOURCE:ID` (the default source's alone).
    case inSeveralSources([String])
    /// No such id or prefix: up to ten ids that share the longest prefix with it.
    case unknown(closest: [String])
}

extension ArchiveReader {
    /// An exact id, or a prefix of exactly one; `SOURCE:ID` looks in one
    /// source only. A session is named as a person types it: its id alone in
    /// the default source, `SOURCE:ID` in the others.
    public func lookUpSession(_ text: String) throws -> SessionLookup {
        switch try lookUpExactly(text) {
        case .found(_, let name): return .found(name)
        case .inSeveralSources(let names): return .inSeveralSources(names)
        case .none: break
        }
        let (source, id) = try typedSession(text)
        let matches = try sessions(startingWith: id, source: source, limit: 11)
        if matches.count == 1 { return .found(matches[0]) }
        if !matches.isEmpty { return .ambiguous(Array(matches.prefix(10))) }
        var prefix = Substring(id).dropLast()
        while !prefix.isEmpty {
            defer { prefix = prefix.dropLast() }
            let closest = try sessions(startingWith: String(prefix), source: source, limit: 10)
            if !closest.isEmpty { return .unknown(closest: closest) }
        }
        return .unknown(closest: [])
    }

    /// The key of the session a typed id names exactly (`lookUpSession`'s found ids), if one does.
    public func sessionKey(typed text: String) throws -> Int64? {
        if case .found(let key, _) = try lookUpExactly(text) { return key }
        return nil
    }

    enum ExactLookup: Equatable {
        /// Its key, and its name as typed.
        case found(Int64, String)
        /// The sessions holding the id, as typed (`SOURCE:ID`).
        case inSeveralSources([String])
        case none
    }

    /// What a full typed id (`SOURCE:ID`, or an id alone) names, without prefixes.
    func lookUpExactly(_ text: String) throws -> ExactLookup {
        let (source, id) = try typedSession(text)
        var found: [(key: Int64, name: String)] = []
        try database.forEachRow("""
            SELECT session_key, \(SourceSQL.qualifiedID("sessions")) FROM sessions WHERE session_id = ?1 AND (?2 IS NULL OR source_key = ?2)
            ORDER BY source_key LIMIT 10
            """, id, source?.rawValue) { found.append((try $0.int64(0), try $0.string(1))) }
        switch found.count {
        case 0: return .none
        case 1: return .found(found[0].key, found[0].name)
        default: return .inSeveralSources(found.map(\.name))
        }
    }

    /// `SOURCE:ID` when SOURCE names a source of the archive, else an id in any source.
    func typedSession(_ text: String) throws -> (SourceKey?, String) {
        if let colon = text.firstIndex(of: ":"), let source = try sourceKey(named: String(text[..<colon])) {
            return (source, String(text[text.index(after: colon)...]))
        }
        return (nil, text)
    }

    private func sessions(startingWith prefix: String, source: SourceKey?, limit: Int) throws -> [String] {
        var ids: [String] = []
        // A range of the unique index: every id that starts with the prefix.
        try database.forEachRow("""
            SELECT \(SourceSQL.qualifiedID("sessions")) FROM sessions WHERE session_id >= ?1 AND session_id < ?1 || char(1114111)
              AND (?3 IS NULL OR source_key = ?3)
            ORDER BY session_id, source_key LIMIT ?2
            """, prefix, limit, source?.rawValue) { try ids.append($0.string(0)) }
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
    public func archivedLastUpdated(sessionID: String, source: SourceKey = .default) throws -> (lastUpdatedAt: String, deleted: Bool)? {
        try database.cached("SELECT last_updated_at, deleted_at IS NOT NULL FROM sessions WHERE session_id = ? AND source_key = ?")
            .first([sessionID, source.rawValue]) {
            try ($0.string(0), $0.get(1, as: Bool.self))
        }
    }

    /// The source hashes of the live sessions, for an import to skip records it already holds.
    public func liveSourceHashes(source: SourceKey = .default) throws -> [SourceHash: String] {
        var hashes: [SourceHash: String] = [:]
        try database.forEachRow("""
            SELECT source_hash, session_id FROM sessions WHERE source_hash IS NOT NULL AND deleted_at IS NULL AND source_key = ?
            """, source.rawValue) {
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
