import ArgumentParser
import ArchiveCore
import Foundation
import SQLiteCore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the archive's path, schema version, counts, recent syncs and open failures.")

    @OptionGroup var location: ArchiveLocationOptions

    @Flag(help: "Also run SQLite's integrity check (and the search index's); exit 1 on a problem.")
    var check = false

    func run() throws {
        let path = location.path
        let store: ArchiveStore
        do { store = try ArchiveStore(path: path) } catch { throw fail("\(error)", code: ExitStatus.fatal) }
        let out = Terminal.standardOutput
        do {
            let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: path + $0)[.size] as? Int }
                .reduce(0, +)
            out.writeLine("\(out.bold("archive")) \(path) (\(ByteCountFormatter.string(fromByteCount: Int64(bytes), countStyle: .file)))")
            out.writeLine("\(out.bold("schema"))  version \(try store.appliedSchemaVersion()), SQLite \(Database.libraryVersion)")
            let counts = Dictionary(uniqueKeysWithValues: try store.tableCounts().map { ($0.table, $0.rows) })
            let deleted = try store.database.scalar("SELECT count(*) FROM sessions WHERE deleted_at IS NOT NULL", as: Int.self) ?? 0
            out.writeLine("\(out.bold("rows"))    \(grouped(counts["sessions"] ?? 0)) sessions (\(grouped(deleted)) deleted remotely), "
                          + "\(grouped(counts["event_rows"] ?? 0)) events, \(grouped(counts["tool_call_links"] ?? 0)) tool calls, "
                          + "\(grouped(counts["usage"] ?? 0)) runs, \(grouped(counts["session_revisions"] ?? 0)) revisions")
            try printRecentRuns(store, out)
            try printOpenFailures(store, out)
            if check { try runChecks(store, out) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail("cannot read archive \(path): \(error)", code: ExitStatus.fatal)
        }
    }

    private func printRecentRuns(_ store: ArchiveStore, _ out: Terminal) throws {
        let syncIsRunning: Bool
        do { _ = try ArchiveLock(archivePath: store.path); syncIsRunning = false } catch {
            if case .held = error { syncIsRunning = true } else { syncIsRunning = false }
        }
        var lines: [String] = []
        try store.database.forEachRow("""
            SELECT run_id, started_at, status, source, new, updated, unchanged, deleted, failed, requests,
                   coalesce(message, ''), finished_at
            FROM sync_runs ORDER BY run_id DESC LIMIT 5
            """) { row in
            // A run still "running" whose sync no longer holds the lock was killed.
            let status = row.string(2) == "running" && row.isNull(11) && !syncIsRunning ? "interrupted" : row.string(2)
            var line = "  #\(row.int(0)) \(row.string(1).prefix(19)) \(status.padding(toLength: 11, withPad: " ", startingAt: 0)) "
            switch status {
            case "interrupted": line += "stopped before it finished; the next sync completes its work"
            case "running": line += "in progress"
            default:
                line += "\(row.int(4)) new, \(row.int(5)) updated, \(row.int(6)) unchanged, \(row.int(7)) deleted, "
                    + "\(row.int(8)) failed, \(row.int(9)) requests"
            }
            if !row.string(10).isEmpty { line += " — \(row.string(10))" }
            lines.append(line)
        }
        out.writeLine("\(out.bold("syncs"))   " + (lines.isEmpty ? "none yet" : "latest first"))
        lines.forEach(out.writeLine)
    }

    private func printOpenFailures(_ store: ArchiveStore, _ out: Terminal) throws {
        var lines: [String] = []
        try store.database.forEachRow("""
            SELECT session_id, coalesce(project_id, '-'), http_status, message FROM sync_failures
            WHERE run_id = (SELECT max(run_id) FROM sync_runs WHERE status IN ('ok', 'partial'))
            ORDER BY rowid
            """) { row in
            let status = row.isNull(2) ? "" : "HTTP \(row.int(2)) "
            lines.append("  \(row.string(0)) (project \(row.string(1))): \(status)\(row.string(3))")
        }
        out.writeLine("\(out.bold("failures")) " + (lines.isEmpty ? "none open" : "\(lines.count) in the last sync"))
        lines.prefix(20).forEach { out.writeLine(out.red($0)) }
    }

    private func runChecks(_ store: ArchiveStore, _ out: Terminal) throws {
        var problems: [String] = []
        try store.database.forEachRow("PRAGMA integrity_check") { row in
            if row.string(0) != "ok" { problems.append(row.string(0)) }
        }
        do {
            try store.database.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
        } catch let error as SQLiteError {
            problems.append("search index: \(error.message)")
        }
        if problems.isEmpty {
            out.writeLine("\(out.bold("check"))   \(out.green("ok"))")
        } else {
            problems.prefix(20).forEach { Terminal.standardError.writeLine("archive: integrity: \($0)") }
            throw ExitCode(ExitStatus.fatal)
        }
    }
}
