import ArchiveCore
import ArgumentParser
import Foundation

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import sessions saved from the API: JSON files (one object or an array), JSONL, folders, or - for stdin; or merge another archive file.",
        discussion: helpText("Exit codes: 0 all imported; 2 some records failed (reported as file:line: reason, the rest kept); 1 fatal.", examples:
            "archive import sessions.jsonl --project proj-support",
            "archive import other.db   # merge another archive: newer wins, nothing is lost"))

    @OptionGroup var location: ArchiveLocationOptions
    @Argument(help: "Files, folders (their .json, .jsonl, .ndjson files) or - for standard input.") var paths: [String]
    @Flag(help: "Print the summary as one JSON object.") var json = false
    @Option(help: "The project these sessions belong to, as a sync of it would record (without it, they keep the project a sync gave them).")
    var project: String?
    @Option(help: "The source these sessions belong to (a [[sources]] name; default: default).")
    var source: String?

    func validate() throws {
        if let source, !ArchiveConfig.isSourceName(source) { throw ValidationError("--source must be letters, digits, _, - and . only") }
        guard !paths.isEmpty else { throw ValidationError("name at least one file, folder or -") }
    }

    func run() throws {
        let archives = paths.filter { $0 != "-" && ArchiveMerge.isArchive(path: $0) }
        let files = paths.filter { path in !archives.contains { $0.sameBytes(as: path) } }
        if source != nil && !archives.isEmpty {
            throw fail("--source is for JSON files: \(archives[0]) is an archive, whose sessions keep their sources", code: ExitStatus.usage)
        }
        if project != nil && !archives.isEmpty {
            throw fail("--project is for JSON files: \(archives[0]) is an archive, whose sessions keep their projects", code: ExitStatus.usage)
        }
        let archive = location.archive()
        let redactor = archive.settings.redactor
        let progressLine = ProgressLine(enabled: !json && Terminal.standardError.isInteractive)
        defer { progressLine.clear() }
        let (merged, report) = try archive.writing(mayCreate: true) { store -> (Int, Importer.Report?) in
            var failed = 0
            for other in archives {
                let report = try ArchiveMerge(store: store, redactor: redactor, onFailure: { Terminal.standardError.writeLine($0) }).merge(other)
                failed += report.failed
                if json {
                    Terminal.standardOutput.writeLine(JSONOutput.encode(report))
                } else {
                    Terminal.standardOutput.writeLine(
                        "merged \(other): \(grouped(report.new)) new, \(grouped(report.updated)) updated, \(grouped(report.unchanged)) unchanged, "
                        + "\(grouped(report.older)) older (skipped), \(grouped(report.forgotten)) forgotten (skipped), \(grouped(report.failed)) failed "
                        + "of \(grouped(report.sessions)) sessions; \(grouped(report.revisions)) revisions added, \(grouped(report.markedDeleted)) marked deleted")
                }
            }
            guard !files.isEmpty else { return (failed, nil) }
            let importer = Importer(store: store, redactor: redactor, onFailure: { progressLine.clear(); Terminal.standardError.writeLine($0) },
                                    onNote: { progressLine.clear(); Terminal.standardError.writeLine("note: " + $0) })
            importer.onProgress = { progressLine.update($0) }
            importer.projectID = project
            if let source { importer.sourceName = source }
            return (failed, try importer.run(paths: files))
        }
        guard let report else {
            if merged > 0 { throw ExitError.exit(ExitStatus.partial) }
            return
        }
        progressLine.clear()
        if PhaseProfile.enabled {
            Terminal.standardError.writeLine(PhaseProfile.report(seconds: report.seconds, what: "\(grouped(report.records)) records"))
        }
        if json {
            Terminal.standardOutput.writeLine(JSONOutput.encode(report))
        } else {
            Terminal.standardOutput.writeLine(
                "imported: \(grouped(report.new)) new, \(grouped(report.updated)) updated, \(grouped(report.unchanged)) unchanged, "
                + (report.older > 0 ? "\(grouped(report.older)) older (skipped), " : "")
                + (report.forgotten > 0 ? "\(grouped(report.forgotten)) forgotten (skipped), " : "") + "\(grouped(report.failed)) failed "
                + "from \(grouped(report.records)) records in \(grouped(report.files)) file\(report.files == 1 ? "" : "s") "
                + "in \(String(format: "%.2f", report.seconds)) s")
        }
        if report.failed + merged > 0 { throw ExitError.exit(ExitStatus.partial) }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write sessions as JSONL, one session a line exactly as the API returned it.",
        discussion: helpText(examples:
            "archive export --since 2026-03-01 --out march.jsonl",
            "archive export --dataset lake   # for DuckDB, ClickHouse, Spark; again adds what changed"))

    @OptionGroup var location: ArchiveLocationOptions
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Option(help: "Only this project.") var project: String?
    @OptionGroup var sourceFilter: SourceFilterOptions
    @OptionGroup var time: TimeOptions
    @Option(name: .customLong("session"), help: "Only this session (ID, or SOURCE:ID); repeat for several.") var sessions: [String] = []
    @Option(help: "Write the archive as a dataset of gzip JSON lines in Hive-style partitions into this folder (DuckDB, ClickHouse and Spark read it); again later, only what changed since.")
    var dataset: String?
    @Flag(help: "With --dataset: start a new dataset instead of adding what changed.") var full = false
    @Flag(help: "With --dataset: print the result as JSON.") var json = false

    func validate() throws {
        if dataset == nil && (full || json) { throw ValidationError("--full and --json go with --dataset") }
        if dataset != nil && (out != nil || project != nil || !sessions.isEmpty || !sourceFilter.sources.isEmpty || time.since != nil || time.until != nil) {
            throw ValidationError("--dataset writes the whole archive: --out, --project, --source, --session, --since and --until do not apply")
        }
    }

    func run() throws {
        if let dataset { return try exportDataset(into: dataset) }
        let archive = location.archive()
        let window = try time.window(archive.settings)
        try archive.reading(allowEmpty: true) { store in
            var exporter = Exporter()
            exporter.project = project
            exporter.sources = sourceFilter.sources
            exporter.window = window
            exporter.sessionIDs = try sessions.map { try resolveSession($0, in: store) }
            if let out, Self.isPartOfArchive(out, archive: store.path) {
                throw fail("--out \(out) is the archive itself (or its journal): refused", code: ExitStatus.usage)
            }
            let write = { (sink: FileHandle) throws in
                var buffer = Data()
                try answer {
                    try exporter.run(reader: store) { line in
                        buffer.append(contentsOf: line.utf8)
                        buffer.append(0x0A)
                        if buffer.count > 1 << 20 { try sink.write(contentsOf: buffer); buffer.removeAll(keepingCapacity: true) }
                    }
                }
                try sink.write(contentsOf: buffer)
            }
            guard let out else { return try write(FileHandle.standardOutput) }
            // Created 0600 beside --out and renamed over it: an export holds the same conversations.
            do { try PrivateFiles.write(to: out, write) } catch let failure as PrivateFiles.FileError {
                throw fail("\(failure)", code: ExitStatus.fatal)
            }
        }
    }

    private func exportDataset(into folder: String) throws {
        try location.archive().reading(allowEmpty: true) { store in
            var export = DatasetExport(folder: folder)
            export.full = full
            let result = try answer { try export.run(reader: store) }
            if json {
                Terminal.standardOutput.writeLine(JSONOutput.encode(result))
                return
            }
            Terminal.standardOutput.writeLine(
                "exported \(result.full ? "a new dataset" : "the changes") to \(folder) (export \(result.export)): "
                + "\(grouped(result.sessions)) sessions, \(grouped(result.events)) events, \(grouped(result.toolCalls)) tool calls, "
                + "\(grouped(result.runs)) runs, \(grouped(result.deletions)) deletions in \(grouped(result.files)) files "
                + "(\(megabytes(result.bytes))) in \(String(format: "%.2f", result.seconds)) s"
                + (result.removed > 0 ? "; \(grouped(result.removed)) files of the earlier dataset removed" : "")
                + (result.rewritten > 0 ? "; \(grouped(result.rewritten)) earlier files rewritten without the sessions forgotten, pruned or redacted since" : ""))
        }
    }

    /// Whether `path` is the archive's file or one of SQLite's beside it
    /// (`-wal`, `-shm`, `-journal`), by identity (a link or another spelling counts).
    static func isPartOfArchive(_ path: String, archive: String) -> Bool {
        let absolute = { (text: String) in URL(fileURLWithPath: text).standardizedFileURL.path }
        for suffix in ["", "-wal", "-shm", "-journal"] where absolute(path) == absolute(archive + suffix) { return true }
        var target = stat()
        guard stat(path, &target) == 0 else { return false }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            var part = stat()
            if stat(archive + suffix, &part) == 0, part.st_dev == target.st_dev, part.st_ino == target.st_ino { return true }
        }
        return false
    }
}
