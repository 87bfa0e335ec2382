import ArchiveCore
import ArgumentParser
import Foundation

struct ForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove sessions from the archive for good, and keep sync and import from bringing them back.",
        discussion: helpText("""
            Chooses the sessions matching every selector given: full session ids, --project, --until, --match. \
            Their events, tool calls, usage, revisions, search entries and failure records go, the reports' totals \
            with them, in one transaction; the file keeps no byte of their text (see docs/privacy.md). --keep-usage keeps their token numbers and drops the rest. Each is recorded in the \
            table `forgotten` (the selector, never the content); `--undo ID` lets sync fetch it again.
            """, examples:
            "archive forget ses-1-559891948d23 --dry-run",
            "archive forget --match \"ACME-[0-9]+\" --yes"))

    @OptionGroup var location: ArchiveLocationOptions
    @Argument(help: "Full session ids, SOURCE:ID outside the default source (a prefix is not enough here).") var ids: [String] = []
    @Option(name: .customLong("project"), help: "Sessions of this project (repeatable).") var projects: [String] = []
    @Option(help: "Sessions last updated up to this date, included (YYYY-MM-DD, an ISO 8601 time, or a span back such as 400d).")
    var until: String?
    @Option(help: "Sessions the full-text search finds for these words; always lists them first.") var match: String?
    @Flag(help: "Keep the sessions' token usage (rows and totals); drop their text.") var keepUsage = false
    @Flag(help: "List what would be forgotten; change nothing.") var dryRun = false
    @Flag(help: "Act without asking (needed with --match when not on a terminal).") var yes = false
    @Option(help: "Lift the forgetting of this session id: the next sync may fetch it again.") var undo: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        let selecting = !ids.isEmpty || !projects.isEmpty || until != nil || match != nil
        if undo != nil && (selecting || keepUsage || dryRun) {
            throw ValidationError("--undo takes one session id and nothing else")
        }
        if undo == nil && !selecting {
            throw ValidationError("name the sessions to forget: session ids, --project, --until or --match")
        }
    }

    func run() throws {
        let archive = location.archive()
        try archive.writing { writer in
            if let undo {
                guard let lifted = try answer({ try writer.undoForget(typed: undo) }) else {
                    throw fail("session \(undo.oneLineSafe) is not forgotten", code: ExitStatus.usage)
                }
                if json {
                    Terminal.standardOutput.writeLine(JSONOutput.encode(["undone": undo]))
                } else {
                    // A kept-usage session is still archived (without text): only a change or --full retrieves it.
                    Terminal.standardOutput.writeLine("\(undo.oneLineSafe) is no longer forgotten: the next sync fetches it"
                        + (lifted.keptUsage ? " when it changes remotely, or `sync --full` now" : ""))
                }
                return
            }
            var selection = SessionSelection()
            selection.sessionKeys = try answer { try writer.reader.sessionKeys(named: ids) }
            selection.projects = projects
            selection.updatedBefore = try cut(until, zone: archive.settings.tz)
            if let match {
                guard let query = SearchQuery.ftsQuery(plainWords: match) else {
                    throw fail("nothing to search for in \"\(match.oneLineSafe)\"", code: ExitStatus.usage)
                }
                selection.searchQuery = query
            }
            let chosen = try writer.reader.sessions(selectedBy: selection)
            if dryRun || match != nil {
                if !json || dryRun || !yes { SelectionListing.show(chosen, verb: dryRun ? "would forget" : "forgets", json: json) }
                if dryRun { return }
                try confirm(chosen.count)
            }
            let result = try writer.forget(chosen, reason: reason, keepUsage: keepUsage, at: Timestamp.now())
            try PrivacyReport.show(result, json: json, archive: archive)
        }
    }

    /// What `forgotten.reason` keeps: the selectors, never a search's words (they may be the very text to forget).
    var reason: String {
        var parts: [String] = []
        if !ids.isEmpty { parts.append("by id") }
        parts += projects.map { "--project \($0)" }
        if let until { parts.append("--until \(until)") }
        if match != nil { parts.append("--match (words not kept)") }
        if keepUsage { parts.append("--keep-usage") }
        return parts.joined(separator: " ")
    }

    private func confirm(_ count: Int) throws {
        guard count > 0, !yes else { return }
        guard Terminal.standardInputIsInteractive, Terminal.standardError.isInteractive else {
            throw fail("--match forgets \(count) session\(count == 1 ? "" : "s") listed above: pass --yes to act", code: ExitStatus.usage)
        }
        Terminal.standardError.write("forget these \(count) session\(count == 1 ? "" : "s")? [y/N] ")
        let reply = readLine(strippingNewline: true)?.lowercased() ?? ""
        guard reply == "y" || reply == "yes" else { throw fail("nothing forgotten", code: ExitStatus.usage) }
    }
}

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Drop the text of sessions last updated before a cut; keep their ids, times, projects and usage.",
        discussion: helpText("""
            Events' content, tool arguments and results, titles, revisions and search entries go; every report of \
            tokens, spend and tools stays as it was. `[retention] content_days` in the config file does this at \
            the end of every sync.
            """, examples:
            "archive prune --content-older-than 400d --dry-run"))

    @OptionGroup var location: ArchiveLocationOptions
    @Option(help: "Sessions last updated longer ago than this span (400d, 52w) or before this date (default: [retention] content_days).")
    var contentOlderThan: String?
    @Flag(help: "List what would be pruned; change nothing.") var dryRun = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let archive = location.archive()
        guard let spec = contentOlderThan ?? archive.settings.contentDays.map({ "\($0)d" }) else {
            throw fail("say how old: --content-older-than 400d, or [retention] content_days in the config file", code: ExitStatus.usage)
        }
        try archive.writing { writer in
            var selection = SessionSelection()
            selection.updatedBefore = try cut(spec, zone: archive.settings.tz, option: "--content-older-than", endOfDay: false)
            selection.withContentOnly = true
            let chosen = try writer.reader.sessions(selectedBy: selection)
            if dryRun {
                SelectionListing.show(chosen, verb: "would prune", json: json)
                return
            }
            try PrivacyReport.show(try writer.prune(chosen, at: Timestamp.now()), json: json, archive: archive)
        }
    }
}

struct RedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Apply the config file's [[redact]] rules to what is already archived.",
        discussion: helpText("""
            Sync and import apply the rules to every session before it is stored. This applies them to sessions \
            archived before a rule was added: matches become [redacted:NAME] in content, tool arguments and \
            results, titles, metadata and revisions, and no byte of the old text is left in the file. Without \
            --apply it lists the rules in force.
            """, examples:
            "archive redact   # the rules in force",
            "archive redact --apply"))

    @OptionGroup var location: ArchiveLocationOptions
    @Flag(help: "Rewrite the archived sessions the rules match.") var apply = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let archive = location.archive()
        let config = archive.settings
        guard apply else {
            if json {
                Terminal.standardOutput.writeLine(JSONOutput.encode(config.redactions.map { ["name": $0.name, "pattern": $0.pattern] }))
            } else if config.redactions.isEmpty {
                Terminal.standardOutput.writeLine("no [[redact]] rules in \(ArchiveConfig.path())")
            } else {
                for rule in config.redactions { Terminal.standardOutput.writeLine("\(rule.name): \(rule.pattern.oneLineSafe)") }
                Terminal.standardOutput.writeLine("`archive redact --apply` applies them to what is archived")
            }
            return
        }
        guard !config.redactions.isEmpty else {
            throw fail("no [[redact]] rules in \(ArchiveConfig.path()) to apply", code: ExitStatus.usage)
        }
        try archive.writing { writer in
            try PrivacyReport.show(try writer.redactArchived(with: config.redactor, at: Timestamp.now()), json: json, archive: archive)
        }
    }
}

/// An `--until`-style bound as the archive's UTC text: dates, times, or a span back from now.
private func cut(_ text: String?, zone: String?, option: String = "--until", endOfDay: Bool = true) throws -> String? {
    guard let text else { return nil }
    do {
        let window = endOfDay ? try TimeWindow(since: nil, until: text, zone: zone)
                              : try TimeWindow(since: text, until: nil, zone: zone)
        return endOfDay ? window.until : window.since
    } catch {
        throw fail("\(option) \"\(text.oneLineSafe)\" is not a date or a span (\(TimeWindowError.dateForms))", code: ExitStatus.usage)
    }
}

enum SelectionListing {
    static func show(_ sessions: [SelectedSession], verb: String, json: Bool) {
        if json {
            Terminal.standardOutput.writeLine(JSONOutput.encode(["dry_run": sessions]))
            return
        }
        let out = Terminal.standardOutput
        for session in sessions {
            out.writeLine("\(session.sessionID.oneLineSafe)  \((session.projectID ?? "(default project)").oneLineSafe)  "
                          + "updated \(session.lastUpdatedAt.prefix(19).replacingOccurrences(of: "T", with: " "))  "
                          + "\(grouped(session.events)) events")
        }
        let projects = Set(sessions.map { $0.projectID ?? "" }).count
        out.writeLine("\(verb) \(grouped(sessions.count)) session\(sessions.count == 1 ? "" : "s") "
                      + "(\(projects) project\(projects == 1 ? "" : "s")), \(grouped(sessions.reduce(0) { $0 + $1.events })) events")
    }
}

enum PrivacyReport {
    /// Prints the result and the copies that still hold what was removed;
    /// exits 2 when the WAL could not be truncated (a reader held it): the
    /// removal is done, but old pages are still in the log.
    static func show(_ result: RemovalResult, json: Bool, archive: Archive) throws {
        let copies = copiesStillHolding(result, archive: archive)
        let externalCheckpoints = archive.settings.backup.externalCheckpoints
        if json {
            Terminal.standardOutput.writeLine(JSONOutput.encode(PrivacyOutput(result: result, copies: copies)))
        } else {
            text(result, copies: copies, externalCheckpoints: externalCheckpoints)
        }
        if result.sessions > 0 && !result.erasure.walTruncated && !externalCheckpoints {
            Terminal.standardError.writeLine("archive: the WAL still holds the old pages: \(result.erasure.walNote ?? "")")
            throw ExitError.exit(ExitStatus.partial)
        }
    }

    private static func text(_ result: RemovalResult, copies: [Copy], externalCheckpoints: Bool) {
        let out = Terminal.standardOutput
        let sessions = "\(grouped(result.sessions)) session\(result.sessions == 1 ? "" : "s")"
        let projects = "\(result.projects) project\(result.projects == 1 ? "" : "s")"
        switch result.action {
        case .forget:
            out.writeLine("forgot \(sessions) (\(projects)), \(grouped(result.events)) events"
                          + (result.keptUsage ? "; usage kept" : ", \(grouped(result.toolCalls)) tool calls, \(grouped(result.runs)) runs")
                          + (result.revisions > 0 ? ", \(grouped(result.revisions)) revisions" : ""))
        case .prune:
            out.writeLine("pruned the content of \(sessions) (\(projects)), \(grouped(result.events)) events"
                          + (result.revisions > 0 ? ", \(grouped(result.revisions)) revisions" : "") + "; usage and totals kept")
        case .redact:
            out.writeLine("redacted \(grouped(result.matches)) match\(result.matches == 1 ? "" : "es") in \(sessions) (\(projects))"
                          + (result.revisions > 0 ? ", \(grouped(result.revisions)) revisions" : ""))
        }
        if result.erasure.vacuumed {
            out.writeLine("the archive was rewritten whole once: it was written before deletions were overwritten")
        }
        if externalCheckpoints, let note = result.erasure.walNote { out.writeLine("note: \(note)") }
        guard !copies.isEmpty else { return }
        out.writeLine("still holding the removed text, outside the archive:")
        for copy in copies { out.writeLine("  \(copy.sentence)") }
    }

    /// A copy the archive wrote, or may have written, that this removal does not reach.
    struct Copy: Encodable {
        let kind: String            // dataset, backups, reports_and_exports
        let paths: [String]
        let until: String

        var sentence: String {
            switch kind {
            case "dataset": "the dataset in \(paths[0]), until \(until)"
            case "backups": "\(paths.count) backup\(paths.count == 1 ? "" : "s") in the backup folder still hold\(paths.count == 1 ? "s" : "") the old content, until \(until)"
            default: "any HTML report (`archive report`) or JSONL export (`archive export`) written before, until \(until)"
            }
        }
    }

    /// The dataset named by `[dataset] dir`, the dated backups in the backup
    /// folder, and the reports and exports the archive cannot track.
    static func copiesStillHolding(_ result: RemovalResult, archive: Archive) -> [Copy] {
        guard result.sessions > 0 else { return [] }
        var copies: [Copy] = []
        if let folder = archive.settings.datasetDir, DatasetExport.isDataset(folder) {
            copies.append(Copy(kind: "dataset", paths: [folder], until: "the next `archive export --dataset \(folder)`"))
        }
        let backups = backupsHoldingOldContent(archive, removedAnything: true)
        if !backups.isEmpty {
            let until = result.action == .forget && !result.keptUsage
                ? "`archive backup --purge-forgotten` rewrites them without forgotten sessions"
                : "newer backups replace them (`[backup] keep`)"
            copies.append(Copy(kind: "backups", paths: backups, until: until))
        }
        copies.append(Copy(kind: "reports_and_exports", paths: [], until: "you delete them: the archive does not know where they went"))
        return copies
    }

    /// Dated backups of the archive in the config's backup folder, which this removal does not reach.
    static func backupsHoldingOldContent(_ archive: Archive, removedAnything: Bool) -> [String] {
        guard removedAnything, let folder = archive.settings.backup.dir else { return [] }
        return ArchiveReader.backups(of: archive.path, in: folder)
    }

    struct PrivacyOutput: Encodable {
        let result: RemovalResult
        let copies: [Copy]

        func encode(to encoder: any Encoder) throws {
            try result.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(copies.first { $0.kind == "backups" }?.paths ?? [], forKey: Key(stringValue: "backups_still_holding")!)
            try container.encode(copies, forKey: Key(stringValue: "copies_still_holding")!)
        }

        struct Key: CodingKey {
            let stringValue: String
            init?(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
    }
}
