import Foundation
import LosslessJSON
import SQLiteCore

/// `archive export --dataset DIR`: the archive as tables of gzip-compressed
/// JSON lines in Hive-style partitions, which DuckDB, ClickHouse and Spark
/// read as they are:
///
///     DIR/sessions/day=2026-11-27/part-00001.jsonl.gz   (and events, tool_calls, usage)
///     DIR/deletions/day=2026-12-01/part-00002.jsonl.gz  (sessions forgotten since the last export)
///     DIR/_manifest.json                                 (every file: rows, bytes, SHA-256; the cursor)
///
/// Partitioned by the session's last-updated day (UTC). A later export writes
/// only the sessions changed since the manifest's cursor (`change_seq`), as
/// complete new snapshots (every row of each, with `snapshot_at`), and
/// tombstones for sessions forgotten since. Files written earlier are only
/// rewritten to take out sessions forgotten, pruned or redacted since
/// (`DatasetPurge`): forgetting reaches the dataset too.
/// Files are written under hidden names and renamed all together at the end,
/// the manifest last, so a reader never meets half an export; a killed export
/// leaves hidden files and unlisted parts, which the next one removes and redoes.
public struct DatasetExport {
    public let folder: String
    /// Start a new dataset: everything, whatever the manifest says.
    public var full = false

    public init(folder: String) { self.folder = folder }

    public struct Result: Sendable, Codable, Equatable {
        public var export = 0
        public var full = false
        public var sessions = 0, events = 0, toolCalls = 0, runs = 0, deletions = 0
        public var files = 0, bytes = 0
        public var cursor: Int64 = 0
        public var seconds = 0.0
        /// Files of the previous dataset removed (`--full`).
        public var removed = 0
        /// Files of earlier exports rewritten or removed because they held
        /// sessions forgotten, pruned or redacted since.
        public var rewritten = 0
    }

    public enum ExportError: Error, CustomStringConvertible, Equatable {
        case otherArchive(folder: String)
        case archiveBehind(folder: String, cursor: Int64, archive: Int64)
        case unreadableManifest(path: String, reason: String)
        case notAFolder(path: String)
        case cannotCreate(path: String, reason: String)

        public var description: String {
            switch self {
            case .otherArchive(let folder):
                "\(folder) holds a dataset of another archive: name an empty folder, or start a new dataset"
            case let .archiveBehind(folder, cursor, archive):
                "the dataset in \(folder) has changes up to \(cursor) and the archive only up to \(archive) "
                    + "(restored from a backup?): start a new dataset"
            case let .unreadableManifest(path, reason): "\(path): \(reason)"
            case .notAFolder(let path): "\(path) is a file: the dataset goes into a folder"
            case let .cannotCreate(path, reason): "cannot create the folder \(path): \(reason)"
            }
        }
    }

    static let manifestName = "_manifest.json"

    /// Whether `folder` holds a dataset this tool wrote (its manifest).
    public static func isDataset(_ folder: String) -> Bool {
        FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(manifestName))
    }
    static let tables = ["sessions", "events", "tool_calls", "usage", "deletions"]

    public func run(reader: ArchiveReader, now: Date = Date()) throws -> Result {
        let started = Date()
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), !isFolder.boolValue {
            throw ExportError.notAFolder(path: folder)
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw ExportError.cannotCreate(path: folder, reason: ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription
                                       ?? error.localizedDescription)
        }
        let manifestPath = (folder as NSString).appendingPathComponent(Self.manifestName)
        let previous = try DatasetManifest.read(manifestPath)
        let database = reader.database
        try database.execute("BEGIN")
        defer { if !database.isAutocommit { try? database.execute("ROLLBACK") } }
        let archiveID = try database.scalar("SELECT value FROM archive_settings WHERE name = 'archive_id'", as: String.self) ?? ""
        let latest = try database.scalar("SELECT \(ArchiveWriter.lastChangeNumberSQL)", as: Int64.self) ?? 0
        let incremental = !full && previous != nil
        if let previous, !full {
            guard previous.archiveID == archiveID else { throw ExportError.otherArchive(folder: folder) }
            guard previous.cursor <= latest else {
                throw ExportError.archiveBehind(folder: folder, cursor: previous.cursor, archive: latest)
            }
        }
        let number = (previous?.exports.count ?? 0) + 1
        Self.removeLeftovers(in: folder, listed: Set(previous?.files.map { ExactText($0.path) } ?? []),
                             exports: Set(previous?.exports.map(\.number) ?? []))
        let snapshot = Timestamp.format(date: now)
        var writer = PartitionWriter(folder: folder, export: number)
        var index = IndexWriter(folder: folder, export: number)
        var purged = Set<DatasetPurge.Session>()
        var result = Result(export: number, full: !incremental, cursor: latest)
        do {
            try writeSessions(database, since: incremental ? previous!.cursor : -1, snapshot: snapshot, into: &writer,
                              index: &index, result: &result)
            if incremental {
                purged = try DatasetPurge.sessions(removedAfter: previous!.cursor, in: database)
                try database.forEachRow("""
                    SELECT f.session_id, f.forgotten_at, so.name FROM forgotten f JOIN sources so USING (source_key)
                    WHERE f.change_seq > ? AND f.kept_usage = 0 ORDER BY f.forgotten_at
                    """, previous!.cursor) { row in
                    var line = JSONRow()
                    line.add("session_id", try row.string(0))
                    line.add("source", try row.string(2))
                    line.add("deleted_at", try row.string(1))
                    line.add("reason", "forgotten")
                    line.add("snapshot_at", snapshot)
                    try writer.write(line, table: "deletions", day: String(try row.string(1).prefix(10)))
                    result.deletions += 1
                }
            }
            try database.execute("COMMIT")
            let written = try writer.finish()
            if incremental && written.isEmpty && purged.isEmpty {
                // Nothing changed: the dataset stays as it is, its manifest too.
                result.export = number - 1
                result.seconds = Date().timeIntervalSince(started)
                return result
            }
            result.files = written.count
            result.bytes = written.reduce(0) { $0 + $1.bytes }
            // A new dataset keeps the earlier exports' numbers (its files take the next) but none of their files.
            var manifest = previous ?? DatasetManifest(archiveID: archiveID)
            let replaced = full ? manifest.files : []
            let replacedExports = full ? manifest.exports.map(\.number) : []
            if full { manifest.files = [] }
            manifest.archiveID = archiveID
            manifest.schemaVersion = try reader.appliedSchemaVersion()
            manifest.cursor = latest
            try writer.publish()
            try index.publish()
            let rewritten = incremental ? try DatasetPurge(folder: folder).run(removing: purged, before: number, manifest: &manifest) : []
            manifest.exports.append(.init(number: number, at: snapshot, full: !incremental, cursor: latest, sessions: result.sessions,
                                          replaced: rewritten))
            manifest.files += written
            try manifest.write(to: manifestPath)
            for file in replaced { unlink((folder as NSString).appendingPathComponent(file.path)) }
            for earlier in replacedExports { unlink((folder as NSString).appendingPathComponent(DatasetPurge.indexPath(export: earlier))) }
            result.removed = replaced.count
            result.rewritten = rewritten.count
        } catch {
            writer.abandon()
            index.abandon()
            throw error
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    private func writeSessions(_ database: Database, since cursor: Int64, snapshot: String,
                               into writer: inout PartitionWriter, index: inout IndexWriter, result: inout Result) throws {
        let events = try database.cached("""
            SELECT \(EventKey.seqSQL("event_key")), turn, type, kind, content, call_id, name, payload
            FROM typed_events WHERE event_key BETWEEN ? AND ? ORDER BY event_key
            """)
        let toolCalls = try database.cached("""
            SELECT \(EventKey.seqSQL("l.call_key")), l.result_seq, c.call_id, c.turn, c.name, c.payload -> '$.arguments',
                   r.payload -> '$.result', r.payload ->> '$.image_attachment.attachment_name',
                   r.payload ->> '$.image_attachment.source_id', l.error_result
            FROM tool_call_rows l JOIN event_rows c ON c.event_key = l.call_key
            LEFT JOIN event_rows r ON r.event_key = \(EventKey.firstSQL(EventKey.sessionSQL("l.call_key"))) | l.result_seq
            WHERE l.call_key BETWEEN ? AND ? ORDER BY l.call_key
            """)
        let usage = try database.cached("""
            SELECT \(EventKey.seqSQL("run_key")), turn, input_tokens, output_tokens, duration_ms, agent_turns, is_error, error, occurred_at
            FROM usage_rows WHERE run_key BETWEEN ? AND ? ORDER BY run_key
            """)
        try database.forEachRow("""
            SELECT session_key, session_id, project_id, organization_id, title, last_updated_at, shared_access, index_ids,
                   job_duration_ms, job_input_tokens, job_output_tokens, job_turns, job_is_error, job_error, event_count,
                   run_count, error_run_count, input_tokens, output_tokens, first_synced_at, last_synced_at, deleted_at,
                   content_pruned_at, \(SourceSQL.name("sessions.source_key"))
            FROM sessions WHERE ?1 < 0 OR change_seq > ?1 ORDER BY last_updated_at, session_key
            """, cursor) { row in
            let key = try row.int64(0), id = try row.string(1), source = try row.string(23)
            let day = String(try row.string(5).prefix(10))
            var line = JSONRow()
            line.add("session_id", id)
            line.add("source", source)
            line.add("project_id", try row.optionalString(2))
            line.add("organization_id", try row.optionalString(3))
            line.add("title", try row.optionalString(4))
            line.add("last_updated_at", try row.string(5))
            line.add("shared_access", try row.optionalString(6))
            line.addJSON("index_ids", try row.optionalString(7))
            line.add("job_duration_ms", try row.optionalDouble(8))
            line.add("job_input_tokens", try row.optionalInt64(9))
            line.add("job_output_tokens", try row.optionalInt64(10))
            line.add("job_turns", try row.optionalInt64(11))
            line.add("job_is_error", try row.optionalInt64(12).map { $0 != 0 })
            line.add("job_error", try row.optionalString(13))
            for (index, name) in ["event_count", "run_count", "error_run_count", "input_tokens", "output_tokens"].enumerated() {
                line.add(name, try row.int64(14 + index))
            }
            line.add("first_synced_at", try row.string(19))
            line.add("last_synced_at", try row.string(20))
            line.add("deleted_at", try row.optionalString(21))
            line.add("content_pruned_at", try row.optionalString(22))
            line.add("snapshot_at", snapshot)
            try writer.write(line, table: "sessions", day: day)
            try index.add(id: id, source: source, day: day)
            result.sessions += 1
            let (first, last) = EventKey.range(session: key)
            try events.forEachRow([first, last]) { event in
                var line = JSONRow()
                line.add("session_id", id)
                line.add("source", source)
                line.add("seq", try event.int64(0))
                line.add("turn", try event.int64(1))
                line.add("type", try event.optionalString(2))
                line.add("kind", try event.string(3))
                line.add("content", try event.optionalString(4))
                line.add("call_id", try event.optionalString(5))
                line.add("name", try event.optionalString(6))
                line.add("payload", try event.optionalString(7))
                line.add("snapshot_at", snapshot)
                try writer.write(line, table: "events", day: day)
                result.events += 1
            }
            try toolCalls.forEachRow([first, last]) { call in
                var line = JSONRow()
                line.add("session_id", id)
                line.add("source", source)
                line.add("call_seq", try call.int64(0))
                line.add("result_seq", try call.optionalInt64(1))
                line.add("call_id", try call.optionalString(2))
                line.add("turn", try call.int64(3))
                line.add("name", try call.optionalString(4))
                line.add("arguments", try call.optionalString(5))
                line.add("result", try call.optionalString(6))
                line.add("image_attachment_name", try call.optionalString(7))
                line.add("image_source_id", try call.optionalString(8))
                line.add("error_result", try call.int64(9) != 0)
                line.add("snapshot_at", snapshot)
                try writer.write(line, table: "tool_calls", day: day)
                result.toolCalls += 1
            }
            try usage.forEachRow([first, last]) { run in
                var line = JSONRow()
                line.add("session_id", id)
                line.add("source", source)
                line.add("seq", try run.int64(0))
                line.add("turn", try run.int64(1))
                line.add("input_tokens", try run.optionalInt64(2))
                line.add("output_tokens", try run.optionalInt64(3))
                line.add("duration_ms", try run.optionalDouble(4))
                line.add("agent_turns", try run.optionalInt64(5))
                line.add("is_error", try run.int64(6) != 0)
                line.add("error", try run.optionalString(7))
                line.add("occurred_at", try run.string(8))
                line.add("snapshot_at", snapshot)
                try writer.write(line, table: "usage", day: day)
                result.runs += 1
            }
        }
    }

    /// What a killed export left: hidden files anywhere in the dataset, and
    /// parts the manifest does not list (published by an export killed before
    /// its manifest, or replaced by a `--full` one killed after).
    static func removeLeftovers(in folder: String, listed: Set<ExactText>, exports: Set<Int>) {
        for table in tables {
            let tableFolder = (folder as NSString).appendingPathComponent(table)
            for day in (try? FileManager.default.contentsOfDirectory(atPath: tableFolder)) ?? [] {
                let dayFolder = (tableFolder as NSString).appendingPathComponent(day)
                for name in (try? FileManager.default.contentsOfDirectory(atPath: dayFolder)) ?? [] {
                    let relative = "\(table)/\(day)/\(name)"
                    let unlisted = !listed.contains(ExactText(relative)) && PartitionWriter.exportNumber(ofPart: name) != nil
                    if name.hasPrefix(".") || unlisted { unlink((dayFolder as NSString).appendingPathComponent(name)) }
                }
            }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(".") {
            unlink((folder as NSString).appendingPathComponent(name))
        }
        let indexes = (folder as NSString).appendingPathComponent(DatasetPurge.indexFolder)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: indexes)) ?? [] {
            let number = Int(name.dropFirst("export-".count).prefix { $0.isNumber })
            if name.hasPrefix(".") || (name.hasPrefix("export-") && !exports.contains(number ?? -1)) {
                unlink((indexes as NSString).appendingPathComponent(name))
            }
        }
    }
}

/// One JSON object, its members in the order they are added: the columns of a dataset row.
struct JSONRow {
    private(set) var writer = JSONWriter(reservingCapacity: 512)
    private var empty = true

    private mutating func key(_ name: String) {
        writer.appendASCII(empty ? "{" : ",")
        empty = false
        writer.writeString(name)
        writer.appendASCII(":")
    }

    mutating func add(_ name: String, _ value: String?) {
        key(name)
        if let value { writer.writeString(value) } else { writer.appendASCII("null") }
    }

    mutating func add(_ name: String, _ value: Int64?) {
        key(name)
        writer.appendASCII(value.map(String.init) ?? "null")
    }

    mutating func add(_ name: String, _ value: Double?) {
        key(name)
        guard let value, value.isFinite else { return writer.appendASCII("null") }
        writer.appendASCII("\(value)")  // always with a point or an exponent: a double column stays one
    }

    mutating func add(_ name: String, _ value: Bool?) {
        key(name)
        writer.appendASCII(value.map { $0 ? "true" : "false" } ?? "null")
    }

    /// A member whose value is JSON already (an array the archive stores as text).
    mutating func addJSON(_ name: String, _ json: String?) {
        key(name)
        writer.writeRaw(json ?? "null")
    }

    /// The object and its newline.
    mutating func line() -> [UInt8] {
        writer.appendASCII(empty ? "{}\n" : "}\n")
        return writer.bytes
    }
}
