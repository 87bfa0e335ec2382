import LosslessJSON
import SQLiteCore

/// What `forget`, `prune` and `redact --apply` removed, and how its traces were erased.
public struct RemovalResult: Sendable, Codable, Equatable {
    public enum Action: String, Sendable, Codable { case forget, prune, redact }

    public let action: Action
    public var sessions = 0
    public var projects = 0
    /// Events removed (forget), or whose text was dropped (prune, keep-usage) or redacted.
    public var events = 0
    public var toolCalls = 0
    public var runs = 0
    public var revisions = 0
    /// Matches of the redaction rules replaced (redact).
    public var matches = 0
    /// Forget kept the sessions' usage rows and rollups.
    public var keptUsage = false
    public var sessionIDs: [String] = []
    public var erasure = TraceErasure()

    enum CodingKeys: String, CodingKey {
        case action, sessions, projects, events, runs, revisions, matches, erasure
        case toolCalls = "tool_calls", keptUsage = "kept_usage", sessionIDs = "session_ids"
    }
}

/// How the removed text was taken out of the file's every byte.
public struct TraceErasure: Sendable, Codable, Equatable {
    /// The search index merged into one segment: no old segment keeps a removed term.
    public var searchIndexMerged = false
    /// The archive was rewritten whole (once, for an archive written before writers deleted securely).
    public var vacuumed = false
    /// The WAL was checkpointed and truncated to nothing.
    public var walTruncated = false
    /// Why the WAL still holds frames, when it does.
    public var walNote: String?

    enum CodingKeys: String, CodingKey {
        case searchIndexMerged = "search_index_merged", vacuumed, walTruncated = "wal_truncated", walNote = "wal_note"
    }
}

/// Forgetting on purpose: every row of a session, or its text only, in one
/// transaction with the rollups and counts; then the traces. The writer runs
/// with secure_delete on, so deleted cells and freed pages are zeroed; the
/// search index (contentless: a deleted document's terms stay in older
/// segments until they are merged) is merged whole; the WAL, which still
/// holds the pages as they were, is checkpointed and truncated.
extension ArchiveWriter {
    /// Removes the sessions, or with `keepUsage` their content only (their
    /// usage rows, rollups and tool call rows stay), and records each in
    /// `forgotten` with `reason` so that sync and import skip it.
    public func forget(_ sessions: [SelectedSession], reason: String, keepUsage: Bool, at now: String) throws -> RemovalResult {
        var result = try forget(sessions.map {
            ($0, ForgottenRecord(sessionID: $0.sessionID, source: $0.source, forgottenAt: now, reason: reason, keptUsage: keepUsage))
        })
        result.keptUsage = keepUsage
        return result
    }

    /// Applies another archive's `forgotten` records here (a backup of it):
    /// the sessions they name are removed as they were there, and the
    /// records kept, so that this copy, restored, still skips them.
    public func applyForgotten(_ records: [ForgottenRecord]) throws -> RemovalResult {
        var selection = SessionSelection()
        selection.ids = records.map(\.sessionID)
        struct Identity: Hashable { let id: ExactText; let source: SourceKey }
        let present = Dictionary(try reader.sessions(selectedBy: selection, requiringEvery: false).map {
            (Identity(id: ExactText($0.sessionID), source: $0.source), $0)
        }) { first, _ in first }
        let pending = try records.filter { record in
            try database.cached("SELECT 1 FROM forgotten WHERE session_id = ? AND source_key = ? AND kept_usage >= ?")
                .scalar([record.sessionID, record.source.rawValue, record.keptUsage], as: Int.self) == nil
        }
        return try forget(pending.map { (present[Identity(id: ExactText($0.sessionID), source: $0.source)], $0) })
    }

    /// Removes each session (whole, or its content when its record keeps
    /// usage) and writes its record, in one transaction; then the traces.
    private func forget(_ entries: [(session: SelectedSession?, record: ForgottenRecord)]) throws -> RemovalResult {
        var result = RemovalResult(action: .forget)
        guard !entries.isEmpty else { return result }
        let sessions = entries.compactMap(\.session)
        try batch {
            let record = try database.cached("""
                INSERT INTO forgotten(session_id, forgotten_at, reason, kept_usage, change_seq, source_key) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(session_id, source_key) DO UPDATE SET forgotten_at = excluded.forgotten_at, reason = excluded.reason,
                  kept_usage = excluded.kept_usage, change_seq = excluded.change_seq
                """)
            for (session, forgotten) in entries {
                if let session {
                    if forgotten.keptUsage {
                        result.revisions += try pruneContent(of: session, at: forgotten.forgottenAt)
                        result.events += session.events
                    } else {
                        try removeWhole(session, into: &result)
                    }
                }
                try record.execute([forgotten.sessionID, forgotten.forgottenAt, forgotten.reason, forgotten.keptUsage, try changeNumber(),
                                    forgotten.source.rawValue])
            }
            if !sessions.isEmpty { try mergeSearchIndex(into: &result) }
        }
        result.sessions = sessions.count
        result.projects = Set(sessions.map { ExactText($0.projectID ?? "") }).count
        result.sessionIDs = sessions.map(\.sessionID)
        if !sessions.isEmpty { try eraseTraces(into: &result) }
        return result
    }

    /// Drops the content of the sessions (see `pruneContent`); their ids,
    /// times, projects, index sets, usage and tool call rows stay.
    public func prune(_ sessions: [SelectedSession], at now: String) throws -> RemovalResult {
        var result = RemovalResult(action: .prune)
        guard sessions.contains(where: { $0.contentPrunedAt == nil }) else { return result }
        try batch {
            for session in sessions where session.contentPrunedAt == nil {
                result.revisions += try pruneContent(of: session, at: now)
                result.events += session.events
                result.sessions += 1
                result.sessionIDs.append(session.sessionID)
            }
            try mergeSearchIndex(into: &result)
        }
        result.projects = Set(sessions.filter { $0.contentPrunedAt == nil }.map { ExactText($0.projectID ?? "") }).count
        try eraseTraces(into: &result)
        return result
    }

    /// `undoForget` of a session as commands name it: `SOURCE:ID`, or an id
    /// one source alone has forgotten.
    public func undoForget(typed text: String) throws -> ForgottenRecord? {
        let (named, id) = try reader.typedSession(text)
        var sources: [SourceKey] = []
        try database.forEachRow("SELECT source_key FROM forgotten WHERE session_id = ?1 AND (?2 IS NULL OR source_key = ?2)", id, named?.rawValue) {
            sources.append(SourceKey(rawValue: try $0.int64(0)))
        }
        guard sources.count <= 1 else {
            let names = try reader.sources().filter { sources.contains($0.key) }.map { "\($0.name):\(id)" }
            throw SelectionError.inSeveralSources(text, names)
        }
        return try sources.first.flatMap { try undoForget(sessionID: id, source: $0) }
    }

    /// Lets sync and import bring a forgotten session back; its record, nil if it was not forgotten.
    public func undoForget(sessionID: String, source: SourceKey = .default) throws -> ForgottenRecord? {
        let record = try database.first(
            "SELECT session_id, forgotten_at, reason, kept_usage FROM forgotten WHERE session_id = ? AND source_key = ?",
            sessionID, source.rawValue) {
            ForgottenRecord(sessionID: try $0.string(0), source: source, forgottenAt: try $0.string(1), reason: try $0.string(2),
                            keptUsage: try $0.get(3, as: Bool.self))
        }
        try database.execute("DELETE FROM forgotten WHERE session_id = ? AND source_key = ?", sessionID, source.rawValue)
        return record
    }

    private func removeWhole(_ session: SelectedSession, into result: inout RemovalResult) throws {
        let (first, last) = EventKey.range(session: session.key)
        if session.contentPrunedAt == nil { try unindexEvents(first: first, last: last) }
        try adjustRollups(sessionKey: session.key, sign: -1)
        try database.cached("DELETE FROM usage_rows WHERE run_key BETWEEN ? AND ?").execute([first, last])
        let runs = database.changes
        try database.cached("DELETE FROM tool_call_rows WHERE call_key BETWEEN ? AND ?").execute([first, last])
        let toolCalls = database.changes
        try database.cached("DELETE FROM event_rows WHERE event_key BETWEEN ? AND ?").execute([first, last])
        let events = database.changes
        try database.cached("DELETE FROM session_revisions WHERE session_id = ? AND source_key = ?")
            .execute([session.sessionID, session.source.rawValue])
        let revisions = database.changes
        try database.cached("DELETE FROM sync_failures WHERE session_id = ? AND source_key = ?")
            .execute([session.sessionID, session.source.rawValue])
        let deleted = try database.cached("SELECT deleted_at IS NOT NULL FROM sessions WHERE session_key = ?")
            .scalar([session.key], as: Bool.self) ?? false
        try database.cached("DELETE FROM sessions WHERE session_key = ?").execute([session.key])
        addToCounts(ArchiveCounts.Delta(sessions: -1, deletedSessions: deleted ? -1 : 0, events: -events,
                                        toolCalls: -toolCalls, runs: -runs, revisions: -revisions))
        result.events += events
        result.toolCalls += toolCalls
        result.runs += runs
        result.revisions += revisions
    }

    /// Drops a session's text: its events' content and payloads (a stop
    /// event keeps its payload, which holds the run's usage), its title in
    /// the row and in `meta`, its revisions and its search entries. Events
    /// keep their type, turn, call id and tool name, so the tool and token
    /// reports are unchanged. Returns how many revisions went.
    func pruneContent(of session: SelectedSession, at now: String) throws -> Int {
        guard session.contentPrunedAt == nil else { return 0 }
        let (first, last) = EventKey.range(session: session.key)
        try unindexEvents(first: first, last: last)
        var events: [(key: Int64, type: String?, stop: Bool)] = []
        try database.cached("SELECT event_key, type, kind = 'stop' FROM typed_events WHERE event_key BETWEEN ? AND ?")
            .forEachRow([first, last]) { try events.append(($0.int64(0), $0.optionalString(1), $0.get(2, as: Bool.self))) }
        let strip = try database.cached(
            "UPDATE event_rows SET type_id = ?, content = NULL, content_ref = NULL, payload = NULL WHERE event_key = ?")
        for event in events where !event.stop {
            try strip.execute([try shapeID(type: event.type, layout: nil), event.key])
        }
        let (meta, unknown) = try database.cached("SELECT meta, unknown_fields FROM sessions WHERE session_key = ?")
            .first([session.key]) { try ($0.string(0), $0.optionalString(1)) } ?? ("{}", nil)
        try database.cached("""
            UPDATE sessions SET title = NULL, job_error = NULL, meta = ?, unknown_fields = ?, content_pruned_at = ?, change_seq = ?
            WHERE session_key = ?
            """).execute([Self.prunedMeta(meta, at: now), unknown.map(Self.withoutText), now, try changeNumber(), session.key])
        try recordContentRemoval(sessionID: session.sessionID, source: session.source, reason: "prune", at: now)
        try database.cached("DELETE FROM session_revisions WHERE session_id = ? AND source_key = ?")
            .execute([session.sessionID, session.source.rawValue])
        let revisions = database.changes
        addToCounts(ArchiveCounts.Delta(revisions: -revisions))
        return revisions
    }

    /// The session's metadata without its text (title, errors, fields the
    /// schema does not know), and saying when its content was pruned: an
    /// export of it says so.
    static func prunedMeta(_ meta: String, at now: String) -> String {
        guard case .object(let object)? = try? JSONParser.parse(meta),
              case .object(var pruned) = Redactor.withoutText(.object(object)) else { return meta }
        pruned[Self.prunedMarker] = .string(now)
        return JSONValue.object(pruned).serialized
    }

    /// The member an export of a pruned session carries, with the time.
    public static let prunedMarker = "archive_content_pruned_at"

    static func withoutText(_ json: String) -> String {
        (try? JSONParser.parse(json)).map { Redactor.withoutText($0).serialized } ?? json
    }

    /// Merges every segment of the search index into one, so that no older
    /// segment still lists a term of a removed document.
    func mergeSearchIndex(into result: inout RemovalResult) throws {
        try database.execute("INSERT INTO search_index(search_index) VALUES ('optimize')")
        result.erasure.searchIndexMerged = true
    }

    /// After the removal commits: an archive written before secure deletion
    /// is rewritten whole once; then the WAL is checkpointed and truncated,
    /// unless checkpoints are left to an external replicator.
    func eraseTraces(into result: inout RemovalResult) throws {
        if try database.scalar("SELECT 1 FROM archive_settings WHERE name = 'content_may_linger'", as: Int.self) != nil {
            try database.execute("VACUUM")
            try database.execute("DELETE FROM archive_settings WHERE name = 'content_may_linger'")
            result.erasure.vacuumed = true
        }
        guard !externalCheckpoints else {
            result.erasure.walNote = "checkpoints are left to the external replicator: the WAL keeps the old pages until it checkpoints"
            return
        }
        let busy = try database.scalar("PRAGMA wal_checkpoint(TRUNCATE)", as: Int.self) ?? 1
        result.erasure.walTruncated = busy == 0
        if busy != 0 {
            result.erasure.walNote = "a reader held the WAL open; the next checkpoint after it closes clears the old pages"
        }
    }
}

extension ArchiveWriter {
    /// Notes that a session's text was removed while the session stays, for
    /// the dataset export to rewrite the files holding its earlier snapshots.
    func recordContentRemoval(sessionID: String, source: SourceKey, reason: String, at now: String) throws {
        try database.cached("""
            INSERT OR IGNORE INTO content_removals(session_id, source_key, change_seq, removed_at, reason) VALUES (?, ?, ?, ?, ?)
            """).execute([sessionID, source.rawValue, try changeNumber(), now, reason])
    }
}
