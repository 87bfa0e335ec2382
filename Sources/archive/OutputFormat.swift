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
