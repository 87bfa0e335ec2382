import ArchiveCore
import ArgumentParser
import Foundation

struct MCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the archive to AI assistants: a read-only Model Context Protocol server on standard input and output.",
        discussion: helpText("""
            Tools: search, show_session, list_sessions, tokens, tools_report, sql. It reads only, never takes the \
            writers' lock, and runs while a sync writes. Point a client at `archive mcp --db PATH`.
            """, examples:
            "archive mcp --max-seconds 10   # for a client: {\"command\": \"archive\", \"args\": [\"mcp\"]}"))

    @OptionGroup var location: ArchiveLocationOptions
    @Option(help: "Cut each tool result to this many kilobytes (it says so when cut).") var maxResultKb = 256
    @Option(help: "Stop a tool call after this many seconds, with a tool error that says how to narrow it (default: the config file's [mcp] max_seconds, else 10).")
    var maxSeconds: Double?
    @Option(help: "Stop a tool call after it has looked at this many million rows (SQLite steps).") var maxMillionRows = 5_000
    @Option(help: "The memory SQLite may use for the calls, in MB.") var maxMemoryMb = 512

    func validate() throws {
        guard (4...16_384).contains(maxResultKb) else { throw ValidationError("--max-result-kb must be between 4 and 16384") }
        if let maxSeconds, !(maxSeconds > 0 && maxSeconds <= 3600) { throw ValidationError("--max-seconds must be above 0, at most 3600") }
        guard (1...1_000_000).contains(maxMillionRows) else { throw ValidationError("--max-million-rows must be between 1 and 1000000") }
        guard (16...65_536).contains(maxMemoryMb) else { throw ValidationError("--max-memory-mb must be between 16 and 65536") }
    }

    func run() throws {
        // A client that ends the server by SIGTERM ends it, whatever a parent blocked.
        var terminate = sigset_t()
        sigemptyset(&terminate)
        sigaddset(&terminate, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &terminate, nil)
        signal(SIGPIPE, SIG_IGN)  // a client gone is seen as EPIPE, and the server ends (MCPServer.send)
        let archive = location.archive()
        ArchiveReader.limitMemory(megabytes: maxMemoryMb)
        let (seconds, rows) = (maxSeconds ?? archive.settings.mcpMaxSeconds ?? 10, maxMillionRows * 1_000_000)
        try archive.reading(allowEmpty: true) { reader in
            MCPServer(tools: MCPTools(reader: reader, maxResultBytes: maxResultKb * 1024, config: archive.settings),
                      limits: { ReadingLimits(seconds: seconds, steps: rows) }).serve()
        }
    }
}
