import SQLiteCore

/// The events a full-text query matches that pass a search's filters
/// (projects, sources, a time window on the session), newest first: by event
/// id, which orders events by their session's key (the order sessions came
/// into the archive), then by their place in it.
///
/// Two ways find the same sequence, at costs that grow with different things:
/// walking the index's matches newest first and keeping those whose session
/// passes (grows with the matches a filter throws away), and walking the
/// sessions that pass, newest first, asking the index for each one's matches
/// (grows with the sessions that pass and hold none). Neither is known to be
/// cheaper before it runs, so both run in turn, and whichever is ahead says
/// what comes next: the cost is about twice the cheaper one's, and a filter
/// that leaves few sessions makes a search faster, never slower.
struct NewestMatches {
    let match: String
    let projects: [String]
    let sources: [String]
    let window: TimeWindow

    /// Index steps taken between two sessions asked for by their key.
    static let stepsPerSession = 32

    var isFiltered: Bool { !projects.isEmpty || !sources.isEmpty || window.since != nil || window.until != nil }

    /// The filters as SQL over `sessions s`, their values (`filterValues`)
    /// bound from `first` on. `SearchQuery`'s ranked search filters by them too.
    func filterSQL(from first: Int) -> String {
        """
        (?\(first) IS NULL OR s.project_id IN (SELECT value FROM json_each(?\(first))))
        AND s.last_updated_at >= ?\(first + 1) AND s.last_updated_at < ?\(first + 2)
        AND \(SourceSQL.allows("s.source_key", parameter: "?\(first + 3)"))
        """
    }

    var filterValues: [any SQLBindable] {
        [TimeWindow.jsonList(projects), window.since ?? "", window.until ?? "9999", TimeWindow.jsonList(sources)]
    }

    /// The sessions that pass, newest first. With projects, from the index by
    /// project (and time), sorted: as many as the projects hold in the
    /// window. Otherwise along the keys, newest first, each one checked: no
    /// sort of every session in a window of years.
    private var sessionsSQL: String {
        projects.isEmpty
            ? "SELECT s.session_key FROM sessions s NOT INDEXED WHERE \(filterSQL(from: 1)) ORDER BY s.session_key DESC"
            : """
              SELECT s.session_key FROM sessions s INDEXED BY sessions_by_project
              WHERE s.project_id IN (SELECT value FROM json_each(?1)) AND \(filterSQL(from: 1)) ORDER BY s.session_key DESC
              """
    }

    /// Calls `found` with each match (its event id) in order, until it
    /// returns false or none is left. (No bm25 here: FTS5 computes a query's
    /// term statistics once per cursor, over each term's every match, and the
    /// second way opens a cursor per session.)
    func find(in database: Database, _ found: (_ rowid: Int64) throws -> Bool) throws {
        let scan = try database.prepare("SELECT rowid FROM search_index WHERE search_index MATCH ?1 ORDER BY rowid DESC")
        try scan.bind([match])
        defer { scan.reset() }
        guard isFiltered else {
            while try scan.step() {
                let row = scan.currentRow
                guard try found(row.int64(0)) else { return }
            }
            return
        }
        let passes = try database.prepare("SELECT 1 FROM sessions s WHERE s.session_key = ?1 AND \(filterSQL(from: 2))")
        let sessions = try database.prepare(sessionsSQL)
        try sessions.bind(filterValues)
        defer { sessions.reset() }
        let inSession = try database.prepare("""
            SELECT rowid FROM search_index
            WHERE search_index MATCH ?1 AND rowid BETWEEN \(EventKey.firstSQL("?2")) AND \(EventKey.lastSQL("?2")) ORDER BY rowid DESC
            """)
        var lastGiven = Int64.max
        var wantsMore = true
        // Each way gives the same sequence: what one gives behind the other was given already.
        func give(_ rowid: Int64) throws {
            guard rowid < lastGiven else { return }
            lastGiven = rowid
            wantsMore = try found(rowid)
        }
        var session: (key: Int64, passes: Bool) = (-1, false)
        while wantsMore {
            for _ in 0..<Self.stepsPerSession where wantsMore {
                guard try scan.step() else { return }
                let row = scan.currentRow
                let rowid = try row.int64(0)
                let key = EventKey(rawValue: rowid).session
                if key != session.key { session = (key, try passes.first(StatementArguments([key] + filterValues)) { _ in true } ?? false) }
                if session.passes { try give(rowid) }
            }
            guard wantsMore, try sessions.step() else { return }
            let key = try sessions.currentRow.int64(0)
            try inSession.forEachRow([match, key]) { row in
                if wantsMore { try give(row.int64(0)) }
            }
        }
    }
}
