import SQLiteCore

/// `sync_runs` and `sync_failures`: what each sync (or import) did.
extension ArchiveWriter {
    public func beginRun(source: String, projects: String?, at now: String) throws -> Int64 {
        try database.execute("INSERT INTO sync_runs(started_at, status, source, projects) VALUES (?, 'running', ?, ?)",
                             now, source, projects)
        return database.lastInsertedRowID
    }

    public func finishRun(_ runID: Int64, summary: SyncSummary, message: String?, at now: String) throws {
        try database.execute("""
            UPDATE sync_runs SET finished_at = ?, status = ?, listed = ?, new = ?, updated = ?, unchanged = ?,
              deleted = ?, forgotten = ?, failed = ?, requests = ?, message = ? WHERE run_id = ?
            """, now, summary.status.rawValue, summary.listed, summary.new, summary.updated, summary.unchanged,
            summary.deleted, summary.forgotten, summary.failed, summary.requests, message, runID)
    }

    public func recordFailure(runID: Int64, sessionID: String, projectID: String?, source: SourceKey = .default, httpStatus: Int?,
                              message: String, at now: String) throws {
        try database.execute("""
            INSERT INTO sync_failures(run_id, session_id, project_id, http_status, message, failed_at, source_key)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, runID, sessionID, projectID, httpStatus, message, now, source.rawValue)
    }
}

/// What a sync (or an import) did, as `sync_runs` records it and `--json` prints it.
public struct SyncSummary: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case running, ok, partial, failed }

    public var status: Status = .running
    public var listed = 0
    public var retrieved = 0
    public var new = 0
    public var updated = 0
    public var unchanged = 0
    public var deleted = 0
    /// Listed sessions that were forgotten on purpose: not retrieved.
    public var forgotten = 0
    public var failed = 0
    public var requests = 0
    /// Requests sent again after a failure, within `requests`.
    public var retries = 0
    public var seconds = 0.0
    public var runID: Int64 = 0
    /// The source (`[[sources]]` name, or `default`).
    public var source: String?
    /// Why a failed run ended, or why its listing stopped early.
    public var message: String?

    public init() {}
}

extension ArchiveReader {
    /// The list page size a server at this base URL accepted last, if one was found.
    public func acceptedPageSize(source: SourceKey) throws -> Int? {
        try database.scalar("SELECT page_size FROM sources WHERE source_key = ? AND page_size IS NOT NULL", source.rawValue, as: Int.self)
    }
}

extension ArchiveWriter {
    /// Remembers the list page size a server at this base URL accepts.
    public func rememberAcceptedPageSize(_ size: Int, source: SourceKey) throws {
        try database.execute("UPDATE sources SET page_size = ? WHERE source_key = ?", size, source.rawValue)
    }
}
