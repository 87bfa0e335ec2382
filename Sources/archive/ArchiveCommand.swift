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
                      ToolsCommand.self, ReportCommand.self, SQLCommand.self, ImportCommand.self, ExportCommand.self, StatusCommand.self,
                      DemoCommand.self])

    /// Runs the command; an `ArchiveFailure` is its one line and its exit code.
    static func main() async {
        do {
            var command = try parseAsRoot()
            do { CommandLineConfig.loaded = try ArchiveConfig.load() } catch {
                throw ArchiveFailure(exitCode: ExitStatus.usage, message: error.description)
            }
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let failure as ArchiveFailure {
            Terminal.standardError.writeLine("archive: \(failure.message.oneLineSafe)")
            Foundation.exit(failure.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}

/// `--db`, shared by every subcommand.
struct ArchiveLocationOptions: ParsableArguments {
    @Option(name: .long, help: "The archive file (default: $ARCHIVE_DB, else the config file's db, else $XDG_DATA_HOME/llamacloud-archive/archive.db).")
    var db: String?

    var path: String { ArchiveLocation.resolve(explicit: db, configured: CommandLineConfig.loaded.db) }
}

/// The config file's settings, read once in `ArchiveCommand.main` before a
/// command runs (and before any task starts): flags and environment
/// variables win over them.
enum CommandLineConfig {
    nonisolated(unsafe) static var loaded = ArchiveConfig()
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

/// A command's failure: one line for standard error and an exit code,
/// printed in one place, `ArchiveCommand.main`.
struct ArchiveFailure: Error {
    let exitCode: Int32
    let message: String
}

func fail(_ message: String, code: Int32) -> ArchiveFailure { ArchiveFailure(exitCode: code, message: message) }

/// The one JSON set-up of the command line: snake_case keys, sorted.
enum JSONOutput {
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
