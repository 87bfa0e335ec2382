import ArchiveCore
import ArgumentParser
import Foundation

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    /// `jsonl`: JSON lines, one object a row (no totals).
    case table, json, csv, jsonl
}

/// `--format` and the time zone used to show times, shared by query commands.
struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("format"), help: "Output format: table, json, jsonl (one object a line) or csv (default: table).")
    var requested: OutputFormat?

    @Flag(help: "Shorthand for --format json.")
    var json = false

    var format: OutputFormat { json ? .json : requested ?? .table }

    func validate() throws {
        if json, let requested, requested != .json { throw ValidationError("--json and --format \(requested.rawValue) exclude each other") }
    }
}

/// `--since`, `--until` and `--tz`.
struct TimeOptions: ParsableArguments {
    @Option(help: "From this time: YYYY-MM-DD, YYYYMMDD, an ISO 8601 time, or a span back from now (7d, 24h, 2w).")
    var since: String?

    @Option(help: "Up to this time (a date includes that whole day); same forms as --since.")
    var until: String?

    @Option(help: "IANA time zone for dates and buckets (default: $TZ, else the config file's tz, else the system's).")
    var tz: String?

    func window() throws -> TimeWindow {
        let environmentZone = ProcessInfo.processInfo.environment["TZ"].map { !$0.isEmpty } ?? false
        let zone = tz ?? (environmentZone ? nil : CommandLineConfig.loaded.tz)
        do { return try TimeWindow(since: since, until: until, zone: zone) } catch {
            throw fail(error, code: ExitStatus.usage)
        }
    }
}

/// Opens an existing archive for reading; a missing or empty one is a clear error.
func openArchiveForReading(_ location: ArchiveLocationOptions, allowEmpty: Bool = false) throws -> ArchiveReader {
    let path = location.path
    guard FileManager.default.fileExists(atPath: path) else {
        throw fail("no archive at \(path): run `archive sync` or `archive import` first", code: ExitStatus.fatal)
    }
    let store: ArchiveReader
    do { store = try ArchiveReader(path: path, onUpgrade: noteUpgrade(of: path)) } catch { throw fail(error, code: ExitStatus.fatal) }
    if !allowEmpty, (try? store.isEmpty) ?? true {
        throw fail(ArchiveError.emptyArchive(path: path), code: ExitStatus.fatal)
    }
    return store
}

/// The session a typed id (or a unique prefix of one) names; else one line
/// with the candidates, and exit 1.
func resolveSession(_ text: String, in store: ArchiveReader) throws -> String {
    switch try answer({ try store.lookUpSession(text) }) {
    case .found(let id):
        return id
    case .ambiguous(let ids):
        throw fail("session id \(text) is the start of several: \(ids.joined(separator: ", "))\(ids.count == 10 ? ", …" : ""); give more of it",
                   code: ExitStatus.fatal)
    case .unknown(let closest):
        let hint = closest.isEmpty ? "" : "; closest: " + closest.joined(separator: ", ")
        throw fail(ArchiveError.unknownSession(text).description + hint, code: ExitStatus.fatal)
    }
}

/// Runs a query, turning its failures into one line and exit 1.
@discardableResult
func answer<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch {
        throw fail(error, code: ExitStatus.fatal)
    }
}
