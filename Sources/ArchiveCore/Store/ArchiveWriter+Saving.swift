import LosslessJSON
import SQLiteCore

/// Writing sessions: one transaction each, or many in a batch.
extension ArchiveWriter {
    public enum SaveOutcome: Equatable, Sendable {
        case new
        case appended(events: Int)
        case rewritten(revision: Int)
        case metadataChanged
        case unchanged
        /// Not saved: the archive holds a newer history (`keepingNewer`), whose `last_updated_at` this is.
        case olderThanArchived(String)
        /// Not saved: the session was forgotten on purpose (`archive forget`).
        case forgotten
        /// Saved whole over a session whose content had been pruned.
        case contentRestored

        public var changedAnything: Bool { self != .unchanged }

        /// The session's row was written (it was not skipped or unchanged).
        public var wroteSession: Bool {
            switch self {
            case .unchanged, .olderThanArchived, .forgotten: false
            default: true
            }
        }
    }

    static func eventKey(session: Int64, seq: Int) -> Int64 { EventKey(session: session, seq: seq).rawValue }
    static func lastEventKey(session: Int64) -> Int64 { EventKey.range(session: session).last }

    /// Writes one session in one transaction. History that extends the archived
    /// one only adds the new events; history that does not first saves the old
    /// session JSON in `session_revisions`.
    @discardableResult
    public func save(_ session: NormalizedSession, projectID: String?, organizationID: String?,
                     source: SourceKey = .default, syncedAt now: String, keepingNewer: Bool = false) throws -> SaveOutcome {
        let outcome: SaveOutcome
        do {
            outcome = try saveInTransaction(session, projectID: projectID, organizationID: organizationID, source: source, now: now,
                                            keepingNewer: keepingNewer)
        } catch {
            typeCodes.sessionFailed()
            groupCodes.sessionFailed()
            throw error
        }
        typeCodes.sessionEnded(committed: database.isAutocommit)
        groupCodes.sessionEnded(committed: database.isAutocommit)
        return outcome
    }

    /// Its own transaction, or part of the caller's batch (see `batch`).
    /// `recordingRevision` false: a rewritten history replaces the archived
    /// one without keeping it (redaction of what is archived).
    func saveInTransaction(_ session: NormalizedSession, projectID: String?, organizationID: String?, source: SourceKey = .default,
                           now: String, keepingNewer: Bool, recordingRevision: Bool = true) throws -> SaveOutcome {
        try atomically {
            let lookingUp = PhaseProfile.begin()
            if try database.cached("SELECT 1 FROM forgotten WHERE session_id = ? AND source_key = ?")
                .scalar([session.sessionID, source.rawValue], as: Int.self) != nil {
                return .forgotten
            }
            let existing = try database.cached(
                """
                SELECT session_key, event_count, meta, deleted_at IS NOT NULL AS deleted, last_updated_at, project_id, run_count,
                       content_pruned_at IS NOT NULL AS pruned
                FROM sessions WHERE session_id = ? AND source_key = ?
                """).first([session.sessionID, source.rawValue], map: ArchivedSession.init)
            PhaseProfile.end(.lookUp, lookingUp)
            if keepingNewer, let existing, existing.updated > session.lastUpdatedAt { return .olderThanArchived(existing.updated) }
            // A pruned session's own export, imported again, holds nothing more than the archive does.
            if let existing, existing.pruned, Self.isPrunedExport(session) { return .unchanged }
            var keep = 0
            var outcome = SaveOutcome.new
            var runTimes: [ExactText: [String]] = [:]
            var relaidOut = false
            // The rollups hold the session's runs under its project and index set (in meta).
            var rollupsChange = true
            if let existing {
                // A pruned session's events are all written again, and were not in the search index.
                let prefix: (length: Int, layoutChanges: [(seq: Int, type: String?, layout: String?)])
                    = existing.pruned ? (0, []) : try commonPrefix(session, sessionKey: existing.key)
                keep = prefix.length
                relaidOut = try relayout(prefix.layoutChanges, sessionKey: existing.key)
                rollupsChange = existing.pruned || keep < existing.count || keep < session.events.count || !existing.meta.sameBytes(as: session.meta)
                    || (projectID != nil && !projectID.sameBytes(as: existing.project))
                if rollupsChange { try adjustRollups(sessionKey: existing.key, sign: -1) }
                if existing.pruned {
                    runTimes = try runTimesByStopEvent(sessionKey: existing.key, from: 0)
                    try removeEvents(sessionKey: existing.key, from: 0, indexed: false)
                    outcome = .contentRestored
                } else if keep < existing.count {
                    if recordingRevision {
                        outcome = .rewritten(revision: try saveRevision(sessionID: session.sessionID, source: source, at: now))
                    } else {
                        outcome = .metadataChanged
                    }
                    runTimes = try runTimesByStopEvent(sessionKey: existing.key, from: keep)
                    try removeEvents(sessionKey: existing.key, from: keep)
                } else if keep < session.events.count {
                    outcome = .appended(events: session.events.count - keep)
                } else if !existing.meta.sameBytes(as: session.meta) || existing.deleted || relaidOut {
                    outcome = .metadataChanged
                } else {
                    outcome = .unchanged
                }
            }
            let writingRow = PhaseProfile.begin()
            try upsertSessionRow(session, projectID: projectID, organizationID: organizationID, source: source, now: now,
                                 changeNumber: outcome == .unchanged ? nil : try changeNumber())
            PhaseProfile.end(.sessionRow, writingRow)
            let sessionKey = try existing?.key
                ?? database.cached("SELECT session_key FROM sessions WHERE session_id = ? AND source_key = ?")
                    .scalar([session.sessionID, source.rawValue], as: Int64.self)!
            var counts = ArchiveCounts.Delta()
            var written = WrittenRuns(links: existing == nil ? session.events.toolCallLinks : [])
            if keep < session.events.count {
                try insertEvents(session, sessionKey: sessionKey, from: keep, runTimes: &runTimes, written: &written)
                let linking = PhaseProfile.begin()
                counts.toolCalls = try relinkToolCalls(session, sessionKey: sessionKey)
                PhaseProfile.end(.toolCalls, linking)
            }
            let rolling = PhaseProfile.begin()
            if existing == nil {
                try addNewSessionToRollups(session, projectID: projectID, source: source, written: written)
            } else if rollupsChange {
                try adjustRollups(sessionKey: sessionKey, sign: 1)
            }
            PhaseProfile.end(.rollups, rolling)
            counts.sessions = existing == nil ? 1 : 0
            counts.deletedSessions = existing?.deleted == true ? -1 : 0
            counts.events = session.events.count - (existing?.count ?? 0)
            counts.runs = session.events.totals.runs - (existing?.runs ?? 0)
            if case .rewritten = outcome { counts.revisions = 1 }
            addToCounts(counts)
            return outcome
        }
    }

    /// Whether the session is an export of a pruned one (it carries `prunedMarker`).
    static func isPrunedExport(_ session: NormalizedSession) -> Bool {
        guard let unknown = session.unknownFields, case .object(let fields)? = try? JSONParser.parse(unknown) else { return false }
        return fields[prunedMarker] != nil
    }

    /// A savepoint per session inside a batch would make the search index flush
    /// at every one (FTS5 syncs on savepoints): a batch is all or nothing instead.
    func atomically<T>(_ body: () throws -> T) throws -> T {
        guard database.isAutocommit else { return try body() }
        return try committing(body)
    }

    /// `body` in a transaction that writes the pending rollups and counts
    /// last, or drops them with everything else.
    func committing<T>(_ body: () throws -> T) throws -> T {
        do {
            var committing: UInt64 = 0
            defer { if committing > 0 { PhaseProfile.end(.commit, committing) } }
            return try database.transaction {
                let result = try body()
                let flushing = PhaseProfile.begin()
                try flushPending()
                PhaseProfile.end(.flushAtCommit, flushing)
                committing = PhaseProfile.begin()
                return result
            }
        } catch {
            pending = PendingRollups()
            throw error
        }
    }

    /// How many leading events the archive already holds as `session` has
    /// them, and which of those it holds with their members in another order
    /// (an archive from before layouts were kept, say): those are relaid, not rewritten.
    func commonPrefix(_ session: NormalizedSession, sessionKey: Int64) throws
        -> (length: Int, layoutChanges: [(seq: Int, type: String?, layout: String?)]) {
        var count = 0
        var diverged = false
        var changes: [(seq: Int, type: String?, layout: String?)] = []
        var events = session.events.makeIterator()
        try database.cached(
            ArchiveReader.historySQL).forEachRow([Self.eventKey(session: sessionKey, seq: 0), Self.lastEventKey(session: sessionKey)]) { row in
            guard !diverged, let event = events.next(),
                  try event.sameStoredFields(
                      type: row.optionalString(0), content: row.optionalString(1), callID: row.optionalString(2),
                      name: row.optionalString(3), payload: row.optionalString(4))
            else {
                diverged = true
                return
            }
            if try !event.layout.sameBytes(as: row.optionalString(5)) { changes.append((count, event.type, event.layout)) }
            count += 1
        }
        return (count, changes)
    }

    /// Sets the layouts of kept events; whether any changed.
    func relayout(_ changes: [(seq: Int, type: String?, layout: String?)], sessionKey: Int64) throws -> Bool {
        for change in changes {
            try database.cached("UPDATE event_rows SET type_id = ? WHERE event_key = ?").execute([try shapeID(type: change.type, layout: change.layout), Self.eventKey(session: sessionKey, seq: change.seq)])
        }
        return !changes.isEmpty
    }

    func saveRevision(sessionID: String, source: SourceKey, at now: String) throws -> Int {
        let previous = try reader.sessionJSON(sessionID: sessionID, source: source) ?? "{}"
        let revision = (try database.cached(
            "SELECT coalesce(max(revision), 0) + 1 FROM session_revisions WHERE session_id = ? AND source_key = ?")
            .scalar([sessionID, source.rawValue], as: Int.self)) ?? 1
        try database.cached(
            "INSERT INTO session_revisions(session_id, source_key, revision, superseded_at, payload) VALUES (?, ?, ?, ?, ?)")
            .execute([sessionID, source.rawValue, revision, now, previous])
        return revision
    }

    /// `indexed` false: the events are not in the search index (their content was pruned).
    func removeEvents(sessionKey: Int64, from seq: Int, indexed: Bool = true) throws {
        let first = Self.eventKey(session: sessionKey, seq: seq), last = Self.lastEventKey(session: sessionKey)
        if indexed { try unindexEvents(first: first, last: last) }
        // Kept deltas whose text lives in a block about to go get their text back.
        try database.cached("""
            UPDATE event_rows SET content = (SELECT t.content FROM typed_events t WHERE t.event_key = event_rows.event_key),
                                  content_ref = NULL
            WHERE event_key BETWEEN ? AND ? AND content_ref IS NOT NULL AND \(ContentRef.blockSeqSQL("content_ref")) >= ?
            """).execute([Self.eventKey(session: sessionKey, seq: 0), first - 1, seq])
        try database.cached("DELETE FROM usage_rows WHERE run_key BETWEEN ? AND ?").execute([first, last])
        try database.cached("DELETE FROM event_rows WHERE event_key BETWEEN ? AND ?").execute([first, last])
    }

    /// The index keeps no copy of the text: deleting an entry takes the text it
    /// was made from, computed again from the stored row as the writer did.
    func unindexEvents(first: Int64, last: Int64) throws {
        let delete = try database.cached("INSERT INTO search_index(search_index, rowid, body) VALUES ('delete', ?, ?)")
        try database.cached(
            "SELECT event_key, kind, content, payload FROM typed_events WHERE event_key BETWEEN ? AND ?").forEachRow([first, last]) { row in
            let rest = try row.optionalString(3).flatMap { try? JSONParser.parse($0).objectValue } ?? JSONObject()
            guard case .indexed(let text) = try Normalizer.searchEntry(kind: row.string(1), content: row.optionalString(2), rest: rest)
            else { return }
            try delete.execute([row.int64(0), text])
        }
    }

    /// `changeNumber` nil: the session did not change (its number stays).
    func upsertSessionRow(_ session: NormalizedSession, projectID: String?, organizationID: String?, source: SourceKey, now: String,
                          changeNumber: Int64?) throws {
        let job = session.job
        let totals = session.events.totals
        try database.cached("""
            INSERT INTO sessions(session_id, project_id, organization_id, title, last_updated_at, shared_access,
              index_ids, job_duration_ms, job_input_tokens, job_output_tokens, job_turns, job_is_error, job_error,
              event_count, run_count, error_run_count, input_tokens, output_tokens, unknown_fields, meta,
              source_hash, first_synced_at, last_synced_at, deleted_at, change_seq, source_key, number_faults)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, coalesce(?24, 0), ?25, ?26)
            ON CONFLICT(session_id, source_key) DO UPDATE SET
              project_id = coalesce(excluded.project_id, sessions.project_id),
              organization_id = coalesce(excluded.organization_id, sessions.organization_id),
              title = excluded.title, last_updated_at = excluded.last_updated_at,
              shared_access = excluded.shared_access, index_ids = excluded.index_ids,
              job_duration_ms = excluded.job_duration_ms, job_input_tokens = excluded.job_input_tokens,
              job_output_tokens = excluded.job_output_tokens, job_turns = excluded.job_turns,
              job_is_error = excluded.job_is_error, job_error = excluded.job_error,
              event_count = excluded.event_count, run_count = excluded.run_count,
              error_run_count = excluded.error_run_count, input_tokens = excluded.input_tokens,
              output_tokens = excluded.output_tokens, unknown_fields = excluded.unknown_fields, meta = excluded.meta,
              source_hash = excluded.source_hash, last_synced_at = excluded.last_synced_at, deleted_at = NULL,
              content_pruned_at = NULL, change_seq = coalesce(?24, sessions.change_seq), number_faults = excluded.number_faults
            """).execute([session.sessionID, projectID, organizationID, session.title, session.lastUpdatedAt, session.sharedAccess, session.indexIDs, job?.durationMs, job?.inputTokens, job?.outputTokens, job?.turns, job?.isError, job?.error, session.events.count, totals.runs, totals.errorRuns, totals.inputTokens, totals.outputTokens, session.unknownFields, session.meta, session.sourceHash?.bytes, now, now, changeNumber, source.rawValue, session.numberFaults])
    }

    /// When each archived run from `seq` on happened, by its stop event's
    /// stored fields: a rewrite that keeps a run unchanged keeps its time,
    /// so its tokens stay in the month they were spent in.
    func runTimesByStopEvent(sessionKey: Int64, from seq: Int) throws -> [ExactText: [String]] {
        var times: [ExactText: [String]] = [:]
        try database.cached("""
            SELECT coalesce(e.payload, ''), u.occurred_at FROM usage_rows u JOIN event_rows e ON e.event_key = u.run_key
            WHERE u.run_key BETWEEN ? AND ? ORDER BY u.run_key
            """).forEachRow([Self.eventKey(session: sessionKey, seq: seq), Self.lastEventKey(session: sessionKey)]) { row in
            try times[ExactText(row.string(0)), default: []].append(row.string(1))
        }
        return times
    }

    func insertEvents(_ session: NormalizedSession, sessionKey: Int64, from start: Int,
                      runTimes: inout [ExactText: [String]], written: inout WrittenRuns) throws {
        let insertEvent = try database.cached("""
            INSERT INTO event_rows(event_key, turn, type_id, content, content_ref, call_id, name, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        // One row at a time: a single-row INSERT opens no statement savepoint, so
        // FTS5 keeps gathering terms in memory until the transaction commits.
        let indexEvent = try database.cached("INSERT INTO search_index(rowid, body) VALUES (?, ?)")
        let insertUsage = try database.cached("""
            INSERT INTO usage_rows(run_key, turn, input_tokens, output_tokens, duration_ms, agent_turns, is_error, error,
              occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var searchDocument = session.searchTokens == nil ? 0 : session.searchDocumentIndex(before: start)
        for event in session.events.dropFirst(start) {
            // Bound one by one: no array of values per row on the hottest path.
            let writingEvent = PhaseProfile.begin()
            try insertEvent.bind(Self.eventKey(session: sessionKey, seq: event.seq), at: 1)
            try insertEvent.bind(event.turn, at: 2)
            try insertEvent.bind(try shapeID(type: event.type, layout: event.layout), at: 3)
            try insertEvent.bind(event.contentRef == nil ? event.content : nil, at: 4)
            try insertEvent.bind(event.contentRef, at: 5)
            try insertEvent.bind(event.callID, at: 6)
            try insertEvent.bind(event.name, at: 7)
            try insertEvent.bind(event.payload, at: 8)
            try insertEvent.step()
            insertEvent.reset()
            PhaseProfile.end(.eventRows, writingEvent)
            if case .indexed(let text) = event.search {
                let indexing = PhaseProfile.begin()
                defer { PhaseProfile.end(.searchIndex, indexing) }
                if text != nil, let tokens = session.searchTokens {
                    searchTokenReplay?.next = (tokens.tokens, searchDocument)
                    searchDocument += 1
                }
                defer { searchTokenReplay?.next = nil }
                try indexEvent.execute([Self.eventKey(session: sessionKey, seq: event.seq), text])
            }
            written.see(seq: event.seq, name: event.name, turn: event.turn)
            if let usage = event.usage {
                written.add(usage)
                let stop = ExactText(event.payload ?? "")
                let occurredAt = runTimes[stop]?.isEmpty == false ? runTimes[stop]!.removeFirst() : session.lastUpdatedAt
                let writingUsage = PhaseProfile.begin()
                try insertUsage.execute([Self.eventKey(session: sessionKey, seq: event.seq), event.turn, usage.inputTokens, usage.outputTokens, usage.durationMs, usage.agentTurns, usage.isError, usage.error, occurredAt])
                PhaseProfile.end(.usageRows, writingUsage)
            }
        }
    }

    /// The code of an event's type and layout (NULL for an untyped event in
    /// the default order), adding it on first sight. Codes are cached once
    /// the transaction that wrote them has committed.
    func shapeID(type: String?, layout: String?) throws -> Int64? {
        guard type != nil || layout != nil else { return nil }
        let key = EventShape(type: type.map(ExactText.init(_:)), layout: layout.map(ExactText.init(_:)))
        if let known = typeCodes[key] { return known }
        let find = "SELECT type_id FROM event_types WHERE type IS ? AND layout IS ?"
        if let id = try database.cached(find).scalar([type, layout], as: Int64.self) {
            typeCodes.add(key, code: id)
            return id
        }
        try database.cached("INSERT INTO event_types(type, layout) VALUES (?, ?)").execute([type, layout])
        let id = database.lastInsertedRowID
        typeCodes.add(key, code: id)
        return id
    }

    /// Links the session's tool calls anew; returns how many more there are than before.
    func relinkToolCalls(_ session: NormalizedSession, sessionKey: Int64) throws -> Int {
        try database.cached("DELETE FROM tool_call_rows WHERE call_key BETWEEN ? AND ?").execute([Self.eventKey(session: sessionKey, seq: 0), Self.lastEventKey(session: sessionKey)])
        let removed = database.changes
        let insert = try database.cached("INSERT INTO tool_call_rows(call_key, result_seq, error_result) VALUES (?, ?, ?)")
        for link in session.events.toolCallLinks {
            try insert.execute([Self.eventKey(session: sessionKey, seq: link.callSeq), link.resultSeq, link.errorResult])
        }
        return session.events.toolCallLinks.count - removed
    }

    /// For a bulk write: a 32 MB page cache, so that index pages are not read
    /// again and again, and the writer's own checkpoints only once the WAL
    /// reaches 128 MB (a `WALCheckpointer` beside it copies the log back sooner).
    public func prepareForBulkWrites() throws {
        try database.execute("PRAGMA cache_size = -32768")
        guard !externalCheckpoints else { return }
        let pageSize = try database.scalar("PRAGMA page_size", as: Int.self) ?? 4096
        try database.execute("PRAGMA wal_autocheckpoint = \((128 << 20) / pageSize)")
    }


    /// Runs `body` in one transaction that holds many `save`s: the search index
    /// and the WAL are written once per batch instead of once per session, and a
    /// crash leaves every session of the batch as it was. If it throws, nothing
    /// of the batch is kept (callers retry its sessions one by one).
    /// Codes interned in `body` outside a `save` (forget, prune and redact
    /// write rows of their own) are kept or dropped with the batch too.
    public func batch<T>(_ body: () throws -> T) throws -> T {
        let result: T
        do { result = try committing(body) } catch {
            typeCodes.sessionFailed()
            groupCodes.sessionFailed()
            typeCodes.batchEnded(committed: false)
            groupCodes.batchEnded(committed: false)
            throw error
        }
        typeCodes.sessionEnded(committed: true)
        groupCodes.sessionEnded(committed: true)
        typeCodes.batchEnded(committed: true)
        groupCodes.batchEnded(committed: true)
        return result
    }
}

/// The archived row of a session about to be saved again, read by column name.
private struct ArchivedSession {
    let key: Int64
    let count: Int
    let meta: String
    let deleted: Bool
    let updated: String
    let project: String?
    let runs: Int
    let pruned: Bool

    init(_ row: Row) throws {
        key = try row.get("session_key")
        count = try row.get("event_count")
        meta = try row.get("meta")
        deleted = try row.get("deleted")
        updated = try row.get("last_updated_at")
        project = try row.get("project_id")
        runs = try row.get("run_count")
        pruned = try row.get("pruned")
    }
}
