import ArchiveCore
import ArgumentParser
import Foundation

/// `--since`, `--until` and `--tz`.
struct TimeOptions: ParsableArguments {
    @Option(help: "From this time: YYYY-MM-DD, YYYYMMDD, an ISO 8601 time, or a span back from now (7d, 24h, 2w).")
    var since: String?

    @Option(help: "Up to this time (a date includes that whole day); same forms as --since.")
    var until: String?

    @Option(help: "IANA time zone for dates and buckets (default: $TZ, else the config file's tz, else the system's).")
    var tz: String?

    /// The window, in `--tz`, else $TZ, else the archive's settings' zone.
    func window(_ settings: ArchiveConfig) throws -> TimeWindow {
        let environmentZone = ProcessInfo.processInfo.environment["TZ"].map { !$0.isEmpty } ?? false
        let zone = tz ?? (environmentZone ? nil : settings.tz)
        do { return try TimeWindow(since: since, until: until, zone: zone) } catch {
            throw fail(error, code: ExitStatus.usage)
        }
    }
}
