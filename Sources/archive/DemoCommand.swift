import ArgumentParser
import ArchiveCore
import ChatSimulator
import Foundation
import LlamaCloudClient

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Sync a local simulator of the chat API into an archive and show what it holds.",
        discussion: helpText(examples:
            "archive demo",
            "archive demo --sessions 200 --db demo.db"))

    @Option(help: "The archive to fill (default: a new one in a folder made for this run under $TMPDIR).")
    var db: String?

    @Option(help: "Sessions per simulated project.")
    var sessions = 60

    func validate() throws {
        guard (1...100_000).contains(sessions) else { throw ValidationError("--sessions must be between 1 and 100000") }
    }

    func run() async throws {
        let path = try db ?? Self.freshDemoPath()
        let out = Terminal.standardOutput
        let projects = ["proj-research", "proj-support"]
        // The demo marks sessions of its projects deleted remotely and adds its
        // own: never in an archive that holds anything else.
        let archive = Archive(path: path, holder: "archive demo")
        if db != nil, archive.exists {
            let foreign = try archive.reading(allowEmpty: true) { try $0.sessionCount(outsideProjects: projects) }
            if foreign > 0 {
                throw fail("demo: \(path) holds \(grouped(foreign)) sessions the demo did not make; "
                           + "give it another --db, or none for a fresh one", code: ExitStatus.usage)
            }
        }
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
        let first = try await Self.sync(archive, server: server, service: service, options: options, showProgress: Terminal.standardError.isInteractive)
        out.writeLine("first sync:  " + SyncRunner.line(first))

        // Some activity on the remote side, then the incremental sync that cron would run.
        let ids = service.sessionIDs(project: projects[0])
        for id in ids.prefix(5) { service.appendRun(to: id) }
        service.delete(ids[ids.count - 1])
        _ = service.createSession(project: projects[1])
        let second = try await Self.sync(archive, server: server, service: service, options: options, showProgress: false)
        out.writeLine("second sync: " + SyncRunner.line(second))
        out.writeLine(out.dim("  (5 sessions extended, 1 deleted remotely and kept here, 1 created: only those were retrieved)"))

        let someSession = try archive.reading { store in
            try DemoReport.print(store, out: out)
            return try store.busiestSessionID() ?? "ID"
        }
        out.writeLine("")
        out.writeLine(out.bold("Try next:"))
        let invocation = Self.invocationName()
        for command in [
            "\(invocation) sessions --db \(path) --order tokens --limit 10",
            "\(invocation) show --db \(path) \(someSession)",
            "\(invocation) search --db \(path) \"renewal clause\"",
            "\(invocation) tokens --db \(path) --by day --price-input 3 --price-output 15",
            "\(invocation) tools --db \(path)",
            "\(invocation) tokens --db \(path) --by project,day --chart --price-input 3 --price-output 15",
            "\(invocation) report --db \(path) --price-input 3 --price-output 15 --out report.html",
            "\(invocation) sql --db \(path) \"SELECT kind, count(*) FROM events GROUP BY kind\"",
            "\(invocation) status --db \(path)",
        ] { out.writeLine("  " + command) }
    }

    /// One sync of the simulator, its failure one line and exit 1.
    private static func sync(_ archive: Archive, server: ChatSimulatorServer, service: SimulatedChatService, options: SyncOptions,
                             showProgress: Bool) async throws -> SyncSummary {
        let source = SyncSource(client: ChatAPIClient(baseURL: server.baseURL, apiKey: service.apiKey), options: options)
        let run: SyncRun
        do { run = try await SyncRunner.run(archive, [source], showProgress: showProgress) } catch { throw fail(error, code: ExitStatus.fatal) }
        if let failure = run.outcomes[0].failure { throw fail(failure, code: ExitStatus.fatal) }
        return run.outcomes[0].summary
    }

    /// How to run this binary again: `archive` when that is what was typed,
    /// else its path (after `swift run`, the build folder's), relative when shorter.
    static func invocationName() -> String {
        let typed = CommandLine.arguments[0]
        guard typed.contains("/") else { return typed }
        let absolute = URL(fileURLWithPath: typed).standardizedFileURL.path
        let here = FileManager.default.currentDirectoryPath + "/"
        return absolute.hasPrefix(here) ? String(absolute.dropFirst(here.count)) : absolute
    }

    /// A folder made for this run alone (`mkdtemp`, 0700) under the temporary
    /// folder: a fixed name there could be a link another local user planted.
    static func freshDemoPath() throws -> String {
        do {
            let folder = try PrivateFiles.makeFreshFolder(in: NSTemporaryDirectory(), prefix: "llamacloud-archive-demo-")
            return (folder as NSString).appendingPathComponent("archive.db")
        } catch {
            throw fail("demo: \(error)", code: ExitStatus.fatal)
        }
    }
}

enum DemoReport {
    static func print(_ store: ArchiveReader, out: Terminal) throws {
        out.writeLine("")
        out.writeLine(out.bold("The archive at \(store.path) now holds:"))
        let totals = try store.totals()
        out.writeLine("  \(grouped(totals.sessions)) sessions (\(grouped(totals.deletedSessions)) deleted remotely), "
                      + "\(grouped(totals.events)) events, \(grouped(totals.runs)) runs, \(grouped(totals.toolCalls)) tool calls")
        out.writeLine("  \(grouped(totals.inputTokens)) input tokens, \(grouped(totals.outputTokens)) output tokens")
        out.writeLine("")
        out.writeLine(out.bold("archive tokens --by project --price-input 3 --price-output 15"))
        let report = TokensReport(grouping: .project, window: .unbounded, pricing: .flat(input: 3, output: 15))
        TableRenderer(terminal: out).render(try store.tokens(report), as: .table)
    }
}
