import ArgumentParser
import ArchiveCore
import Foundation

@main
struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "An offline, queryable SQLite archive of LlamaCloud chat sessions.",
        discussion: """
            Exit codes: 0 done; 1 fatal (bad key, unreachable server, unusable archive); \
            2 some sessions failed (the rest are kept); 64 bad arguments; 75 another sync holds the archive.
            """,
        version: ArchiveVersion.current,
        subcommands: [SyncCommand.self, SessionsCommand.self, ShowCommand.self, SearchCommand.self, TokensCommand.self,
                      ToolsCommand.self, SQLCommand.self, ImportCommand.self, ExportCommand.self, StatusCommand.self,
                      DemoCommand.self])
}

/// `--db`, shared by every subcommand.
struct ArchiveLocationOptions: ParsableArguments {
    @Option(name: .long, help: "The archive file (default: $ARCHIVE_DB, else $XDG_DATA_HOME/llamacloud-archive/archive.db).")
    var db: String?

    var path: String { ArchiveLocation.resolve(explicit: db) }
}

/// Exit codes, as documented in the README.
enum ExitStatus {
    static let fatal: Int32 = 1
    static let partial: Int32 = 2
    static let usage: Int32 = 64
    static let locked: Int32 = 75
}

/// Says on standard error that an archive of an earlier schema is being
/// upgraded, so that a pause of a few seconds is not a mystery.
func noteUpgrade(of path: String) -> (Int, Int) -> Void {
    { from, to in
        Terminal.standardError.writeLine("archive: upgrading \(path) from schema version \(from) to \(to) (once)")
    }
}

/// Prints `archive: message` on standard error and ends with `code`.
func fail(_ message: String, code: Int32) -> ExitCode {
    Terminal.standardError.writeLine("archive: \(message.oneLineSafe)")
    return ExitCode(code)
}
