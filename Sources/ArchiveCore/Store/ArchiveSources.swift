import SQLiteCore

/// A source's row in `sources`: the account and region sessions came from.
/// A session is identified by its source and its id.
public struct SourceKey: Hashable, Sendable, Comparable {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    /// The source of sessions synced with flags alone, imported without
    /// `--source`, or archived before sources.
    public static let `default` = SourceKey(rawValue: 1)
    public static let defaultName = "default"
    public static func < (a: SourceKey, b: SourceKey) -> Bool { a.rawValue < b.rawValue }
}

/// A row of `sources`, with how many sessions it holds.
public struct ArchivedSource: Sendable, Equatable {
    public let key: SourceKey
    public let name: String
    public let baseURL: String?
    public let organizationID: String?
    public let lastSyncedAt: String?
    public let sessions: Int
}

extension ArchiveWriter {
    /// The key of the source named `name`, adding it on first sight; a sync
    /// notes where it synced it from.
    public func source(named name: String, baseURL: String? = nil, organizationID: String? = nil) throws -> SourceKey {
        try atomically {
            try database.cached("INSERT INTO sources(name) VALUES (?) ON CONFLICT(name) DO NOTHING").execute([name])
            if baseURL != nil || organizationID != nil {
                // A source moved to another server finds that server's page size again.
                try database.cached("""
                    UPDATE sources SET page_size = CASE WHEN ?2 IS NULL OR base_url IS ?2 THEN page_size END,
                                       base_url = coalesce(?2, base_url), organization_id = coalesce(?3, organization_id)
                    WHERE name = ?1
                    """).execute([name, baseURL, organizationID])
            }
            return SourceKey(rawValue: try database.cached("SELECT source_key FROM sources WHERE name = ?").scalar([name], as: Int64.self)!)
        }
    }

    /// Notes that a sync of `source` finished.
    public func noteSynced(_ source: SourceKey, at now: String) throws {
        try database.execute("UPDATE sources SET last_synced_at = ? WHERE source_key = ?", now, source.rawValue)
    }
}

extension ArchiveReader {
    /// Every source, in the order they were added.
    public func sources() throws -> [ArchivedSource] {
        var sources: [ArchivedSource] = []
        try database.forEachRow("""
            SELECT s.source_key, s.name, s.base_url, s.organization_id, s.last_synced_at,
                   (SELECT count(*) FROM sessions WHERE source_key = s.source_key)
            FROM sources s ORDER BY s.source_key
            """) { row in
            sources.append(ArchivedSource(key: SourceKey(rawValue: try row.int64(0)), name: try row.string(1),
                                          baseURL: try row.optionalString(2), organizationID: try row.optionalString(3),
                                          lastSyncedAt: try row.optionalString(4), sessions: try row.int(5)))
        }
        return sources
    }

    /// The key of the source named `name` (compared by its bytes), if the archive has it.
    public func sourceKey(named name: String) throws -> SourceKey? {
        try database.cached("SELECT source_key FROM sources WHERE name = ?").scalar([name], as: Int64.self).map(SourceKey.init)
    }
}
