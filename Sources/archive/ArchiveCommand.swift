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
            2 some sessions failed (the rest are kept); 64 bad arguments; 75 another command (a sync, an import, a forget) holds the archive, named in the message.
            """,
        version: ArchiveVersion.current,
        groupedSubcommands: [
            CommandGroup(name: "Data in and out", subcommands: [SyncCommand.self, ImportCommand.self, ExportCommand.self]),
            CommandGroup(name: "Reading and reports", subcommands: [SessionsCommand.self, ShowCommand.self, SearchCommand.self, TokensCommand.self,
                                                                    ToolsCommand.self, BudgetCommand.self, ReportCommand.self, SQLCommand.self]),
            CommandGroup(name: "Care of the archive", subcommands: [StatusCommand.self, BackupCommand.self, RestoreCommand.self,
                                                                    ForgetCommand.self, PruneCommand.self, RedactCommand.self]),
            CommandGroup(name: "Integrations", subcommands: [MCPCommand.self]),
            CommandGroup(name: "Try it", subcommands: [DemoCommand.self]),
        ])

    /// Runs the command; an `ExitError` is its one line and its exit code.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if case .failure(let error) = CommandLineConfig.reading { throw fail(error, code: ExitStatus.usage) }
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let failure as ExitError {
            if let message = failure.message { Terminal.standardError.writeLine("archive: \(message.oneLineSafe)") }
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

/// The config file's settings, read once, on first use: `ArchiveCommand.main`
/// asks first, so that a bad file stops every command before it runs. Flags
/// and environment variables win over them.
enum CommandLineConfig {
    static let reading = Result { () throws(SettingsFileError) in try ArchiveConfig.load() }
    static var loaded: ArchiveConfig { (try? reading.get()) ?? ArchiveConfig() }
    /// The subcommand this process runs (`sync`), as the writers' lock names its holder.
    static let commandName: String = {
        let names = Set(ArchiveCommand.configuration.subcommands.map { $0.configuration.commandName ?? "" })
        return CommandLine.arguments.dropFirst().first { names.contains($0) } ?? "archive"
    }()
}

/// Exit codes, as `archive --help` and docs/reference/cli.md list them.
enum ExitStatus {
    static let fatal: Int32 = 1
    static let partial: Int32 = 2
    static let usage: Int32 = 64
    static let locked: Int32 = 75
    static let overBudget: Int32 = 3
}

/// How a command ends other than well: an exit code and, unless the command
/// has said what there is to say, one line for standard error. The one way
/// out, printed in one place, `ArchiveCommand.main`.
struct ExitError: Error {
    let exitCode: Int32
    let message: String?

    /// The exit code alone (a partial sync has printed its summary already).
    static func exit(_ code: Int32) -> ExitError { ExitError(exitCode: code, message: nil) }
}

func fail(_ message: String, code: Int32) -> ExitError { ExitError(exitCode: code, message: message) }

/// An error of the core as a failure: its words (`ErrorWords`) and the code;
/// the writers' lock held by another is always exit 75.
func fail(_ error: any Error, code: Int32) -> ExitError {
    if let failure = error as? ExitError { return failure }
    if case .held = error as? ArchiveLock.LockError { return ExitError(exitCode: ExitStatus.locked, message: ErrorWords.line(error)) }
    return ExitError(exitCode: code, message: ErrorWords.line(error))
}

/// The one JSON set-up of the command line: snake_case keys, sorted.
enum JSONOutput {
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
