import ArgumentParser
import ArchiveCore
import Foundation

struct StatusCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument { case text, json }

    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the archive's path, schema version, counts, recent syncs and open failures.",
        discussion: helpText(examples:
            "archive status",
            "archive status --check"))

    @OptionGroup var location: ArchiveLocationOptions

    @Flag(help: "Also run SQLite's integrity check (and the search index's); exit 1 on a problem.")
    var check = false

    @Option(name: .customLong("format"), help: "text or json.")
    var requested: Format = .text

    @Flag(help: "Shorthand for --format json.")
    var json = false

    var format: Format { json ? .json : requested }

    func run() throws {
        let archive = location.archive()
        let settings = archive.settings
        try archive.reading(allowEmpty: true) { store in
            var status = try store.status()
            if let folder = settings.backup.dir {
                status.latestBackup = ArchiveReader.latestBackup(of: status.path, in: folder).map { .init(path: $0.path, bytes: $0.bytes) }
            }
            status.redactionRules = settings.redactions.map(\.name)
            status.contentRetentionDays = settings.contentDays
            status.backupFolder = settings.backup.dir
            let checking = ProgressLine(enabled: check && Terminal.standardError.isInteractive)
            checking.draw("checking the integrity of \(ByteCountFormatter.string(fromByteCount: Int64(status.bytes), countStyle: .file))…", force: true)
            let problems = check ? try answer { try store.integrityProblems() } : []
            checking.clear()
            let out = Terminal.standardOutput
            if format == .json {
                out.writeLine(JSONOutput.encode(status))
            } else {
                out.write(text(status, out))
                if check && problems.isEmpty { out.writeLine("\(out.bold("check"))   \(out.green("ok"))") }
            }
            if !problems.isEmpty {
                problems.prefix(20).forEach { Terminal.standardError.writeLine("archive: integrity: \($0)") }
                throw ExitError.exit(ExitStatus.fatal)
            }
        }
    }

    private func text(_ status: ArchiveStatus, _ out: Terminal) -> String {
        var lines = [
            "\(out.bold("archive")) \(status.path) (\(ByteCountFormatter.string(fromByteCount: Int64(status.bytes), countStyle: .file)))",
            "\(out.bold("schema"))  version \(status.schemaVersion), SQLite \(status.sqliteVersion)",
            "\(out.bold("rows"))    \(grouped(status.sessions)) sessions (\(grouped(status.deletedSessions)) deleted remotely), "
                + "\(grouped(status.events)) events, \(grouped(status.toolCalls)) tool calls, "
                + "\(grouped(status.runs)) runs, \(grouped(status.revisions)) revisions",
            "\(out.bold("syncs"))   " + (status.recentRuns.isEmpty ? "none yet" : "latest first"),
        ]
        if status.sources.count > 1 || status.sources.contains(where: { $0.name != SourceKey.defaultName }) {
            let sources = status.sources.map { source in
                "\(source.name.oneLineSafe) \(grouped(source.sessions))"
                    + (source.baseURL.map { " from \($0.oneLineSafe)" } ?? "")
                    + (source.lastSyncedAt.map { ", synced \($0.prefix(16))" } ?? "")
            }
            lines.insert("\(out.bold("sources")) " + sources.joined(separator: "; "), at: lines.count - 1)
        }
        if status.sessionsWithNumberFaults > 0 {
            lines.insert("\(out.bold("numbers")) \(grouped(status.sessionsWithNumberFaults)) sessions hold numbers kept only as sent "
                         + "(see sessions.number_faults)", at: lines.count - 1)
        }
        var privacy: [String] = []
        if status.forgottenSessions > 0 { privacy.append("\(grouped(status.forgottenSessions)) sessions forgotten") }
        if status.prunedSessions > 0 { privacy.append("content of \(grouped(status.prunedSessions)) sessions pruned") }
        if let days = status.contentRetentionDays { privacy.append("retention: content kept \(days) days") }
        privacy.append(status.redactionRules.isEmpty ? "no redaction rules" : "redaction rules: " + status.redactionRules.joined(separator: ", "))
        lines.insert("\(out.bold("privacy")) " + privacy.joined(separator: "; "), at: lines.count - 1)
        if let folder = status.backupFolder {
            let latest = status.latestBackup
            lines.insert("\(out.bold("backup"))  " + (latest.map { "\(($0.path as NSString).lastPathComponent) in \(folder) (\(megabytes($0.bytes)))" }
                                                      ?? "none yet in \(folder)"), at: lines.count - 1)
        }
        for run in status.recentRuns {
            var line = "  #\(run.runID) \(run.startedAt.prefix(19)) \(run.status.padding(toLength: 11, withPad: " ", startingAt: 0)) "
            switch run.status {
            case "interrupted": line += "stopped before it finished; the next sync completes its work"
            case "running": line += "in progress"
            default:
                line += "\(run.new) new, \(run.updated) updated, \(run.unchanged) unchanged, \(run.deleted) deleted, "
                    + "\(run.failed) failed, \(run.requests) requests"
            }
            if let message = run.message { line += " — \(message.oneLineSafe)" }
            lines.append(line)
        }
        let failures = status.openFailures
        lines.append("\(out.bold("failures")) " + (failures.isEmpty ? "none open" : "\(failures.count) in the last sync"))
        for failure in failures.prefix(20) {
            let http = failure.httpStatus.map { "HTTP \($0) " } ?? ""
            lines.append(out.red("  \(failure.sessionID.oneLineSafe) (project \((failure.projectID ?? "-").oneLineSafe)): \(http)\(failure.message.oneLineSafe)"))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
