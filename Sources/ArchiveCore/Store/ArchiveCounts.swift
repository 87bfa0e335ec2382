import SQLiteCore

/// What the archive holds, counted by the writer in `archive_counts`
/// (Migrations/0008) as it writes, so that `status` reads six numbers
/// instead of counting millions of rows.
public struct ArchiveCounts: Sendable, Equatable {
    public var sessions = 0, deletedSessions = 0, events = 0, toolCalls = 0, runs = 0, revisions = 0

    /// A change to the counts, made in the transaction of the rows it counts.
    struct Delta {
        var sessions = 0, deletedSessions = 0, events = 0, toolCalls = 0, runs = 0, revisions = 0

        var isZero: Bool { [sessions, deletedSessions, events, toolCalls, runs, revisions].allSatisfy { $0 == 0 } }

        mutating func add(_ other: Delta) {
            sessions += other.sessions
            deletedSessions += other.deletedSessions
            events += other.events
            toolCalls += other.toolCalls
            runs += other.runs
            revisions += other.revisions
        }
    }

    static let names = ["sessions", "deleted_sessions", "events", "tool_calls", "runs", "revisions"]
}

extension ArchiveWriter {
    func addToCounts(_ delta: ArchiveCounts.Delta) {
        pending.counts.add(delta)
    }

    func writeCounts(_ delta: ArchiveCounts.Delta) throws {
        guard !delta.isZero else { return }
        try database.cached("""
            UPDATE archive_counts SET value = value + CASE name WHEN 'sessions' THEN ?1 WHEN 'deleted_sessions' THEN ?2
              WHEN 'events' THEN ?3 WHEN 'tool_calls' THEN ?4 WHEN 'runs' THEN ?5 WHEN 'revisions' THEN ?6 ELSE 0 END
            """).execute([delta.sessions, delta.deletedSessions, delta.events, delta.toolCalls, delta.runs, delta.revisions])
    }

}

extension ArchiveReader {
    public func counts() throws -> ArchiveCounts {
        var values: [String: Int] = [:]  // our own names
        try database.forEachRow("SELECT name, value FROM archive_counts") { values[try $0.string(0)] = try $0.int(1) }
        return ArchiveCounts(sessions: values["sessions"] ?? 0, deletedSessions: values["deleted_sessions"] ?? 0,
                             events: values["events"] ?? 0, toolCalls: values["tool_calls"] ?? 0, runs: values["runs"] ?? 0,
                             revisions: values["revisions"] ?? 0)
    }

    /// The counts as the rows are: what `counts()` must equal (checked by `status --check` and the tests).
    func countedFromRows() throws -> ArchiveCounts {
        func count(_ sql: String) throws -> Int { try database.scalar(sql, as: Int.self) ?? 0 }
        return try ArchiveCounts(
            sessions: count("SELECT count(*) FROM sessions"),
            deletedSessions: count("SELECT count(*) FROM sessions WHERE deleted_at IS NOT NULL"),
            events: count("SELECT count(*) FROM event_rows"), toolCalls: count("SELECT count(*) FROM tool_call_rows"),
            runs: count("SELECT count(*) FROM usage_rows"), revisions: count("SELECT count(*) FROM session_revisions"))
    }
}
