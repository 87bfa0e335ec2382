import Foundation

/// Where an import's time goes, phase by phase, when `ARCHIVE_PROFILE` is set
/// (`scripts/bench import --profile`): timers of our own around each phase,
/// per thread of work (reading, writing), summed. Off, a phase costs one
/// check of a constant.
public enum PhaseProfile {
    public enum Phase: Int, CaseIterable, Sendable {
        // The reading thread.
        case readLines, hash, parse, normalise, searchTokens
        // The writing thread.
        case lookUp, sessionRow, eventRows, searchIndex, usageRows, toolCalls, rollups, flushAtCommit, commit

        var title: String {
            switch self {
            case .readLines: "read and split lines"
            case .hash: "hash (skip what is archived)"
            case .parse: "parse JSON"
            case .normalise: "redact and normalise"
            case .searchTokens: "search text and tokens"
            case .lookUp: "look up the archived session"
            case .sessionRow: "session row"
            case .eventRows: "event rows"
            case .searchIndex: "search index (FTS5)"
            case .usageRows: "usage rows"
            case .toolCalls: "tool call rows"
            case .rollups: "rollups"
            case .flushAtCommit: "levels and counts (at commit)"
            case .commit: "commit"
            }
        }

        var isReading: Bool { rawValue <= Phase.searchTokens.rawValue }
    }

    public static let enabled = ProcessInfo.processInfo.environment["ARCHIVE_PROFILE"].map { !$0.isEmpty && $0 != "0" } ?? false
    private static let totals = Totals()

    private final class Totals: @unchecked Sendable {
        let lock = NSLock()
        var nanoseconds = [UInt64](repeating: 0, count: Phase.allCases.count)
        var calls = [Int](repeating: 0, count: Phase.allCases.count)
    }

    @inline(__always)
    public static func measure<T, Failure: Error>(_ phase: Phase, _ body: () throws(Failure) -> T) throws(Failure) -> T {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let spent = DispatchTime.now().uptimeNanoseconds &- start
            totals.lock.withLock {
                totals.nanoseconds[phase.rawValue] &+= spent
                totals.calls[phase.rawValue] += 1
            }
        }
        return try body()
    }

    /// For a phase whose errors are typed: `let started = PhaseProfile.begin()`, then `PhaseProfile.end(.parse, started)`.
    @inline(__always)
    public static func begin() -> UInt64 { enabled ? DispatchTime.now().uptimeNanoseconds : 0 }

    @inline(__always)
    public static func end(_ phase: Phase, _ started: UInt64) {
        guard enabled else { return }
        let spent = DispatchTime.now().uptimeNanoseconds &- started
        totals.lock.withLock {
            totals.nanoseconds[phase.rawValue] &+= spent
            totals.calls[phase.rawValue] += 1
        }
    }

    /// The table, for standard error: each thread's phases, their seconds and
    /// share of the wall time `seconds`.
    public static func report(seconds: Double, what: String) -> String {
        let spent = totals.lock.withLock { totals.nanoseconds }
        var lines = ["profile (ARCHIVE_PROFILE): \(what) in \(String(format: "%.2f", seconds)) s of wall time"]
        for reading in [true, false] {
            lines.append(reading ? "reading thread" : "writing thread (this one)")
            var sum = 0.0
            for phase in Phase.allCases where phase.isReading == reading {
                let phaseSeconds = Double(spent[phase.rawValue]) / 1e9
                sum += phaseSeconds
                lines.append(row(phase.title, phaseSeconds, of: seconds))
            }
            let rest = max(0, seconds - sum)
            lines.append(row(reading ? "waiting, and the rest" : "the rest of the save path", rest, of: seconds))
        }
        return lines.joined(separator: "\n")
    }

    private static func row(_ title: String, _ phaseSeconds: Double, of seconds: Double) -> String {
        "  " + title.padding(toLength: 32, withPad: " ", startingAt: 0)
            + String(format: " %8.3f s  %5.1f%%", phaseSeconds, 100 * phaseSeconds / max(seconds, 1e-9))
    }
}
