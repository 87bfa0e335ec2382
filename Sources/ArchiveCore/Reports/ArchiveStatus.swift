import Foundation
import SQLiteCore

/// `archive status`: what the archive holds and how its last syncs went.
public struct ArchiveStatus: Sendable, Codable, Equatable {
    public struct Run: Sendable, Codable, Equatable {
        public let runID: Int64
        public let startedAt: String
        public let finishedAt: String?
        /// ok, partial, failed, running, or interrupted (left "running" by a sync that was killed).
        public let status: String
        public let source: String
        public let new, updated, unchanged, deleted, failed, requests: Int
        public let message: String?
    }

    public struct Failure: Sendable, Codable, Equatable {
        public let sessionID: String
        /// The source's name.
        public let source: String?
        public let projectID: String?
        public let httpStatus: Int?
        public let message: String
    }

    public let path: String
    public let bytes: Int
    public let schemaVersion: Int
    public let sqliteVersion: String
    public let sessions, deletedSessions, events, toolCalls, runs, revisions: Int
    /// The last five syncs and imports, latest first.
    public let recentRuns: [Run]
    /// The failures of the last finished run.
    public let openFailures: [Failure]
    /// The newest dated backup in the configured backup folder (the caller knows the folder).
    public var latestBackup: LatestBackup?
    /// The configured backup folder (the caller knows it).
    public var backupFolder: String?
    /// Sessions forgotten on purpose (`forgotten`), and sessions whose content was pruned.
    public var forgottenSessions = 0, prunedSessions = 0
    /// The config file's `[[redact]]` rule names and `[retention] content_days` (the caller knows them).
    public var redactionRules: [String] = []
    public var contentRetentionDays: Int?
    /// The sources the sessions came from, in the order they were added.
    public var sources: [Source] = []
    /// Sessions with numbers kept only as sent (`sessions.number_faults`).
    public var sessionsWithNumberFaults = 0

    public struct Source: Sendable, Codable, Equatable {
        public let name: String
        public let baseURL: String?
        public let sessions: Int
        public let lastSyncedAt: String?
    }

    public struct LatestBackup: Sendable, Codable, Equatable {
        public let path: String
        public let bytes: Int

        public init(path: String, bytes: Int) {
            self.path = path
            self.bytes = bytes
        }
    }
}

extension ArchiveReader {
    /// What `archive status` shows: size, schema, counts, the last runs and
    /// the failures of the last one. Whether a sync runs is asked of the
    /// lock without taking it.
    public func status() throws -> ArchiveStatus {
        let database = self.database
        let path = self.path
        let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: path + $0)[.size] as? Int }
            .reduce(0, +)
        let schemaVersion = try self.appliedSchemaVersion()
        let sqliteVersion = Database.libraryVersion
        let counts = try self.counts()

        let syncIsRunning = ArchiveLock.isHeld(archivePath: path)
        var recent: [ArchiveStatus.Run] = []
        try database.forEachRow("""
            SELECT run_id, started_at, finished_at, status, source, new, updated, unchanged, deleted, failed, requests, message
            FROM sync_runs ORDER BY run_id DESC LIMIT 5
            """) { row in
            // A run still "running" when no sync holds the lock was stopped before it finished.
            let recorded: String = try row.get("status")
            let finishedAt: String? = try row.get("finished_at")
            let status = recorded == "running" && finishedAt == nil && !syncIsRunning ? "interrupted" : recorded
            try recent.append(ArchiveStatus.Run(runID: row.get("run_id"), startedAt: row.get("started_at"), finishedAt: finishedAt,
                                                status: status, source: row.get("source"), new: row.get("new"), updated: row.get("updated"),
                                                unchanged: row.get("unchanged"), deleted: row.get("deleted"), failed: row.get("failed"),
                                                requests: row.get("requests"), message: row.get("message")))
        }
        var failures: [ArchiveStatus.Failure] = []
        try database.forEachRow("""
            SELECT session_id, \(SourceSQL.name("sync_failures.source_key")) AS source, project_id, http_status, message FROM sync_failures
            WHERE run_id = (SELECT max(run_id) FROM sync_runs WHERE status IN ('ok', 'partial'))
            ORDER BY rowid
            """) { row in
            try failures.append(ArchiveStatus.Failure(sessionID: row.get("session_id"), source: row.get("source"), projectID: row.get("project_id"),
                                                      httpStatus: row.get("http_status"), message: row.get("message")))
        }
    
        var status = ArchiveStatus(path: path, bytes: bytes, schemaVersion: schemaVersion, sqliteVersion: sqliteVersion,
                                   sessions: counts.sessions, deletedSessions: counts.deletedSessions, events: counts.events,
                                   toolCalls: counts.toolCalls, runs: counts.runs, revisions: counts.revisions,
                                   recentRuns: recent, openFailures: failures)
        status.forgottenSessions = try database.scalar("SELECT count(*) FROM forgotten", as: Int.self) ?? 0
        status.sessionsWithNumberFaults = try database.scalar(
            "SELECT count(*) FROM sessions INDEXED BY sessions_with_number_faults WHERE number_faults IS NOT NULL", as: Int.self) ?? 0
        status.sources = try sources().map { ArchiveStatus.Source(name: $0.name, baseURL: $0.baseURL, sessions: $0.sessions, lastSyncedAt: $0.lastSyncedAt) }
        status.prunedSessions = try database.scalar(
            "SELECT count(*) FROM sessions INDEXED BY sessions_pruned WHERE content_pruned_at IS NOT NULL", as: Int.self) ?? 0
        return status
    }

    /// Rollups and counts that differ from a recomputation from the rows: what
    /// a write that forgot to keep them would leave (none when all is well).
    public func keptTotalsProblems() throws -> [String] {
        var problems: [String] = []
        let mismatches = try rollupMismatches()
        if mismatches > 0 { problems.append("rollups: \(mismatches) rows differ from a recomputation from usage_rows") }
        let (kept, counted) = (try counts(), try countedFromRows())
        if kept != counted { problems.append("archive_counts: \(kept) differ from the rows' \(counted)") }
        return problems
    }

    /// SQLite's integrity check, the kept totals and the search index's own check; the problems found.
    public func integrityProblems() throws -> [String] {
        var problems: [String] = []
        try database.forEachRow("PRAGMA integrity_check") { row in
            let line = try row.string(0)
            if line != "ok" { problems.append(line) }
        }
        problems += try keptTotalsProblems()
        // What was forgotten whole is not archived; what kept its usage kept no text.
        let lingering = try database.scalar("""
            SELECT count(*) FROM forgotten f JOIN sessions s ON s.session_id = f.session_id AND s.source_key = f.source_key
            WHERE f.kept_usage = 0 OR s.content_pruned_at IS NULL
            """, as: Int.self) ?? 0
        if lingering > 0 { problems.append("\(lingering) forgotten sessions are still archived with their content") }
        // The search index checks itself through an INSERT: on a connection of its
        // own that may write, when the file may be written at all.
        guard access(path, W_OK) == 0, let writable = try? Database(path: path, mode: .readWrite) else {
            return problems
        }
        do {
            try writable.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
        } catch let error as SQLiteError {
            problems.append("search index: \(error.message)")
        }
        return problems
    }
}
