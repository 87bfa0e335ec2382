import ArgumentParser
import ArchiveCore
import ChatSimulator
import Foundation
import LlamaCloudClient

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Sync a local simulator of the chat API into an archive and show what it holds.")

    @Option(help: "The archive to fill (default: a fresh one in the temporary folder).")
    var db: String?

    @Option(help: "Sessions per simulated project.")
    var sessions = 60

    func validate() throws {
        guard (1...100_000).contains(sessions) else { throw ValidationError("--sessions must be between 1 and 100000") }
    }

    func run() async throws {
        let path = db ?? Self.freshDemoPath()
        let out = Terminal.standardOutput
        let projects = ["proj-research", "proj-support"]
        let service = SimulatedChatService(apiKey: "demo-key-\(UUID().uuidString)", seed: 2026)
        for project in projects { service.populate(project: project, count: sessions) }
        let server: ChatSimulatorServer
        do { server = try ChatSimulatorServer.start(service: service) } catch {
            throw fail("cannot start the simulator: \(error)", code: ExitStatus.fatal)
        }
        defer { server.stop() }
        out.writeLine(out.bold("Simulated chat API at \(server.baseURL.absoluteString) with \(sessions * projects.count) sessions in \(projects.count) projects."))

        var options = SyncOptions()
        options.projects = projects
        let client = ChatAPIClient(baseURL: server.baseURL, apiKey: service.apiKey)
        let first = try await SyncRunner.run(archivePath: path, client: client, options: options,
                                             showProgress: Terminal.standardError.isInteractive)
        out.writeLine("first sync:  " + SyncRunner.line(first))

        // Some activity on the remote side, then the incremental sync that cron would run.
        let ids = service.sessionIDs(project: projects[0])
        for id in ids.prefix(5) { service.appendRun(to: id) }
        service.delete(ids[ids.count - 1])
        _ = service.createSession(project: projects[1])
        let second = try await SyncRunner.run(archivePath: path, client: ChatAPIClient(baseURL: server.baseURL, apiKey: service.apiKey),
                                              options: options, showProgress: false)
        out.writeLine("second sync: " + SyncRunner.line(second))
        out.writeLine(out.dim("  (5 sessions extended, 1 deleted remotely and kept here, 1 created: only those were retrieved)"))

        let store = try ArchiveStore(path: path)
        try DemoReport.print(store, out: out)
        out.writeLine("")
        out.writeLine(out.bold("Try next:"))
        out.writeLine("  archive status --db \(path)")
        out.writeLine("  sqlite3 \(path) \"SELECT s.project_id, sum(u.input_tokens), sum(u.output_tokens) FROM usage u JOIN sessions s USING (session_id) GROUP BY 1\"")
        out.writeLine("  sqlite3 \(path) \"SELECT name, count(*), sum(result IS NULL) FROM tool_calls GROUP BY name ORDER BY 2 DESC\"")
        out.writeLine("  sqlite3 \(path) \"SELECT session_id, snippet(search_index, 0, '[', ']', '…', 8) FROM search_index JOIN events ON event_id = search_index.rowid WHERE search_index MATCH 'renewal clause' LIMIT 5\"")
    }

    static func freshDemoPath() -> String {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("llamacloud-archive-demo")
        let path = (folder as NSString).appendingPathComponent("archive.db")
        for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        return path
    }
}

enum DemoReport {
    static func print(_ store: ArchiveStore, out: Terminal) throws {
        let database = store.database
        out.writeLine("")
        out.writeLine(out.bold("The archive at \(store.path) now holds:"))
        try database.forEachRow("""
            SELECT count(*), sum(deleted_at IS NOT NULL), sum(event_count),
                   (SELECT count(*) FROM usage), (SELECT coalesce(sum(input_tokens), 0) FROM usage),
                   (SELECT coalesce(sum(output_tokens), 0) FROM usage), (SELECT count(*) FROM tool_call_links)
            FROM sessions
            """) { row in
            out.writeLine("  \(grouped(row.int(0))) sessions (\(grouped(row.int(1))) deleted remotely), \(grouped(row.int(2))) events, "
                          + "\(grouped(row.int(3))) runs, \(grouped(row.int(6))) tool calls")
            out.writeLine("  \(grouped(row.int(4))) input tokens, \(grouped(row.int(5))) output tokens")
        }
        out.writeLine("")
        out.writeLine(out.bold("Tokens per project:"))
        out.writeLine("  project          sessions   runs  errors        input     output")
        try database.forEachRow("""
            SELECT coalesce(s.project_id, '(default)'), count(DISTINCT u.session_id), count(*), sum(u.is_error),
                   coalesce(sum(u.input_tokens), 0), coalesce(sum(u.output_tokens), 0)
            FROM usage u JOIN sessions s USING (session_id) GROUP BY 1 ORDER BY 1
            """) { row in
            out.writeLine("  " + row.string(0).padding(toLength: 15, withPad: " ", startingAt: 0)
                          + pad(grouped(row.int(1)), 10) + pad(grouped(row.int(2)), 7) + pad(grouped(row.int(3)), 8)
                          + pad(grouped(row.int(4)), 13) + pad(grouped(row.int(5)), 11))
        }
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
}
