import LlamaCloudClient
import LosslessJSON
import SQLiteCore

/// Which sessions `forget` and `prune` act on: those that match every
/// selector given (ids are full ids, compared by their bytes).
public struct SessionSelection: Sendable {
    public var ids: [String] = []
    public var projects: [String] = []
    /// Last updated before this instant (UTC, as the archive stores times).
    public var updatedBefore: String?
    /// An FTS5 query over the search index (`SearchQuery.ftsQuery(plainWords:)` makes one from words).
    public var searchQuery: String?
    /// Leave out sessions whose content is already pruned.
    public var withContentOnly = false
    /// Only these sessions, by key (`ArchiveReader.sessionKeys(named:)` finds them; empty: all).
    public var sessionKeys: [Int64] = []

    public init() {}

    public var isEmpty: Bool { ids.isEmpty && sessionKeys.isEmpty && projects.isEmpty && updatedBefore == nil && searchQuery == nil }
}

/// A session a selection chose, as `--dry-run` lists it.
public struct SelectedSession: Sendable, Codable, Equatable {
    public let sessionID: String
    public let projectID: String?
    public let lastUpdatedAt: String
    public let events: Int
    public let contentPrunedAt: String?
    let key: Int64
    var source = SourceKey.default

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", projectID = "project_id", lastUpdatedAt = "last_updated_at", events
        case contentPrunedAt = "content_pruned_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sessionID = try container.decode(String.self, forKey: .sessionID)
        projectID = try container.decodeIfPresent(String.self, forKey: .projectID)
        lastUpdatedAt = try container.decode(String.self, forKey: .lastUpdatedAt)
        events = try container.decode(Int.self, forKey: .events)
        contentPrunedAt = try container.decodeIfPresent(String.self, forKey: .contentPrunedAt)
        key = 0
    }

    init(_ row: Row) throws {
        key = try row.get("session_key")
        source = SourceKey(rawValue: try row.get("source_key"))
        sessionID = try row.get("session_id")
        projectID = try row.get("project_id")
        lastUpdatedAt = try row.get("last_updated_at")
        events = try row.get("event_count")
        contentPrunedAt = try row.get("content_pruned_at")
    }
}

/// A row of `forgotten`.
public struct ForgottenRecord: Sendable, Equatable {
    public let sessionID: String
    public let forgottenAt: String
    public let reason: String
    public let keptUsage: Bool
    public var source = SourceKey.default

    public init(sessionID: String, source: SourceKey = .default, forgottenAt: String, reason: String, keptUsage: Bool) {
        self.sessionID = sessionID
        self.source = source
        self.forgottenAt = forgottenAt
        self.reason = reason
        self.keptUsage = keptUsage
    }
}

public enum SelectionError: Error, CustomStringConvertible, Equatable {
    /// Full ids only: a prefix that happens to be unique today is not enough to forget by.
    case noSuchSession(String)
    /// An id several sources hold: each as `SOURCE:ID`.
    case inSeveralSources(String, [String])

    public var description: String {
        switch self {
        case .noSuchSession(let id): "no session \(Printable.clean(id, limit: 200)) in the archive (full session ids only)"
        case let .inSeveralSources(id, holders):
            "session id \(Printable.clean(id, limit: 200)) is in several sources: \(holders.joined(separator: ", ")); name one as SOURCE:ID"
        }
    }
}

extension ArchiveReader {
    /// The sessions `selection` chooses, oldest first; unless
    /// `requiringEvery` is false, every id it names must be archived.
    public func sessions(selectedBy selection: SessionSelection, requiringEvery: Bool = true) throws -> [SelectedSession] {
        var chosen: [SelectedSession] = []
        func list(_ values: [String]) -> String? {
            values.isEmpty ? nil : JSONValue.array(values.map(JSONValue.string)).serialized
        }
        try database.forEachRow("""
            SELECT session_key, session_id, project_id, last_updated_at, event_count, content_pruned_at, source_key FROM sessions
            WHERE (?1 IS NULL OR session_id IN (SELECT value FROM json_each(?1)))
              AND (?2 IS NULL OR coalesce(project_id, '') IN (SELECT value FROM json_each(?2)))
              AND (?3 IS NULL OR last_updated_at < ?3)
              AND (?4 IS NULL OR session_key IN (SELECT DISTINCT \(EventKey.sessionSQL("rowid")) FROM search_index WHERE search_index MATCH ?4))
              AND (?5 = 0 OR content_pruned_at IS NULL)
              AND (?6 IS NULL OR session_key IN (SELECT value FROM json_each(?6)))
            ORDER BY last_updated_at, session_id
            """, list(selection.ids), list(selection.projects), selection.updatedBefore, selection.searchQuery,
            selection.withContentOnly, Self.integers(selection.sessionKeys)) { chosen.append(try SelectedSession($0)) }
        if requiringEvery && !selection.ids.isEmpty {
            let found = Set(chosen.map { ExactText($0.sessionID) })
            let lookUp = try database.cached("SELECT 1 FROM sessions WHERE session_id = ? LIMIT 1")
            for id in selection.ids where !found.contains(ExactText(id)) {
                if try lookUp.scalar([id], as: Int.self) == nil { throw SelectionError.noSuchSession(id) }
            }
        }
        return chosen
    }

    /// A JSON array of integers for `json_each`; nil when there are none.
    static func integers(_ values: [Int64]) -> String? {
        values.isEmpty ? nil : "[" + values.map(String.init).joined(separator: ",") + "]"
    }

    /// The keys of the sessions these names name exactly, as commands show
    /// them: `SOURCE:ID`, or an id that one source alone holds.
    public func sessionKeys(named names: [String]) throws -> [Int64] {
        try names.map { name in
            switch try lookUpExactly(name) {
            case .found(let key, _): return key
            case .inSeveralSources(let holders): throw SelectionError.inSeveralSources(name, holders)
            case .none: throw SelectionError.noSuchSession(name)
            }
        }
    }

    /// The ids of every session of `source` forgotten on purpose.
    public func forgottenSessionIDs(source: SourceKey = .default) throws -> [String] {
        var ids: [String] = []
        try database.forEachRow("SELECT session_id FROM forgotten WHERE source_key = ?", source.rawValue) { ids.append(try $0.string(0)) }
        return ids
    }

    public func forgottenRecords() throws -> [ForgottenRecord] {
        var records: [ForgottenRecord] = []
        try database.forEachRow("""
            SELECT session_id, forgotten_at, reason, kept_usage, source_key FROM forgotten ORDER BY forgotten_at, session_id, source_key
            """) {
            records.append(ForgottenRecord(sessionID: try $0.string(0), source: SourceKey(rawValue: try $0.int64(4)),
                                           forgottenAt: try $0.string(1), reason: try $0.string(2), keptUsage: try $0.get(3, as: Bool.self)))
        }
        return records
    }
}
