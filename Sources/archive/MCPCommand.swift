import ArchiveCore
import ArgumentParser
import Foundation

struct MCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the archive to AI assistants: a read-only Model Context Protocol server on standard input and output.",
        discussion: """
            Tools: search, show_session, list_sessions, tokens, tools_report, sql. It reads only, never takes the \
            writers' lock, and runs while a sync writes. Point a client at `archive mcp --db PATH`.
            """)

    @OptionGroup var location: ArchiveLocationOptions
    @Option(help: "Cut each tool result to this many kilobytes (it says so when cut).") var maxResultKb = 256

    func validate() throws {
        guard (4...16_384).contains(maxResultKb) else { throw ValidationError("--max-result-kb must be between 4 and 16384") }
    }

    func run() throws {
        let archive = location.archive()
        try archive.reading(allowEmpty: true) { reader in
            MCPServer(tools: MCPTools(reader: reader, maxResultBytes: maxResultKb * 1024, config: archive.settings)).serve()
        }
    }
}
