import ArchiveCore
import ArgumentParser
import Foundation

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the archive as it is at one instant, checked, while a sync may be writing.",
        discussion: helpText("""
            DEST is a file, or a folder that gets a dated file (ARCHIVE-2026-12-03T201500Z.db). The copy is made \
            under a temporary name beside DEST, checked as `status --check` checks, then renamed into place (mode 0600). \
            With --purge-forgotten no backup is made: the backups already in DEST (this archive's dated ones in a \
            folder, or the file) are rewritten without the sessions `archive forget` removed.
            """, examples:
            "archive backup ~/archive-copy.db",
            "archive backup ~/backups --keep 7   # dated files, the 7 newest kept"))

    @OptionGroup var location: ArchiveLocationOptions
    @Argument(help: "A file, or a folder for dated backups (default: the config file's [backup] dir).") var destination: String?
    @Option(help: "With a folder: keep the newest N backups of this archive there, remove the older (default: [backup] keep).") var keep: Int?
    @Flag(help: "Rewrite the backups in DEST without the forgotten sessions, instead of making one.") var purgeForgotten = false
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        if let keep, keep < 1 { throw ValidationError("--keep must be 1 or more") }
        if purgeForgotten && keep != nil { throw ValidationError("--purge-forgotten makes no backup: --keep does not apply") }
    }

    func run() throws {
        let archive = location.archive()
        let settings = archive.settings.backup
        guard let destination = destination ?? settings.dir else {
            throw fail("name where the backup goes, or set dir in the config file's [backup]", code: ExitStatus.usage)
        }
        if purgeForgotten { return try archive.reading(allowEmpty: true) { try purge(destination, reader: $0) } }
        let result = try archive.reading(allowEmpty: true) { try $0.backup(to: destination, keep: keep ?? (self.destination == nil ? settings.keep : nil)) }
        if json {
            Terminal.standardOutput.writeLine(JSONOutput.encode(result))
        } else {
            Self.report(result, to: Terminal.standardOutput)
        }
    }

    private func purge(_ destination: String, reader: ArchiveReader) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: destination, isDirectory: &isFolder) else {
            throw fail("no backup at \(destination)", code: ExitStatus.fatal)
        }
        let backups = isFolder.boolValue ? ArchiveReader.backups(of: location.path, in: destination) : [destination]
        let purged = try answer { try reader.purgeForgotten(inBackups: backups) }
        if json {
            Terminal.standardOutput.writeLine(JSONOutput.encode(purged))
            return
        }
        for backup in purged {
            Terminal.standardOutput.writeLine("\(backup.path): \(grouped(backup.removed)) forgotten session\(backup.removed == 1 ? "" : "s") removed, "
                                              + "\(grouped(backup.sessions)) kept (\(megabytes(backup.bytes)))")
        }
        if purged.isEmpty { Terminal.standardOutput.writeLine("no backups of \(location.path) in \(destination)") }
    }

    static func report(_ result: BackupResult, to out: Terminal) {
        out.writeLine("backed up to \(result.path): \(megabytes(result.bytes)), \(grouped(result.sessions)) sessions "
                      + "in \(String(format: "%.2f", result.seconds)) s")
        for path in result.removed { out.writeLine("removed the older backup \(path)") }
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the archive with a checked backup; the archive as it was is kept beside it.",
        discussion: helpText("""
            Refuses a file that is not an archive this binary knows, or that fails its check; exits 75 while a sync \
            holds the archive. The archive as it was is kept as ARCHIVE.before-restore-STAMP.
            """, examples:
            "archive restore ~/archive-copy.db"))

    @OptionGroup var location: ArchiveLocationOptions
    @Argument(help: "The backup to restore.") var source: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let path = location.path
        guard FileManager.default.fileExists(atPath: source) else { throw fail("no backup at \(source)", code: ExitStatus.fatal) }
        let result = try location.archive().writing(mayCreate: true) { try $0.restore(from: source) }
        if json {
            Terminal.standardOutput.writeLine(JSONOutput.encode(result))
        } else {
            Terminal.standardOutput.writeLine("restored \(path) from \(source): \(grouped(result.sessions)) sessions; "
                                              + "the archive as it was is kept as \(result.previous)")
        }
    }
}

func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
