import Foundation
import LosslessJSON

/// `--since` / `--until` and `--tz`, turned into UTC bounds comparable with the
/// archive's normalised times.
public struct TimeWindow: Sendable, Equatable {
    /// Inclusive lower bound, normalised UTC text; nil for no bound.
    public let since: String?
    /// Exclusive upper bound, normalised UTC text; nil for no bound.
    public let until: String?
    public let zone: TimeZone

    /// Which end of the window a date bounds.
    public enum Bound: String, Sendable { case since, until }

    /// Accepts `YYYY-MM-DD`, `YYYYMMDD`, `YYYY-MM`, a full ISO 8601 time, or a
    /// span back from now (`90m`, `24h`, `7d`, `2w`). Dates and months start at
    /// midnight in `zone`; an `--until` date or month includes the whole of it.
    /// A span starts on the quarter hour (the reports' rollups are kept by
    /// quarter hour, so that a span costs what a date does).
    public init(since: String?, until: String?, zone: String?, now: Date = Date()) throws(TimeWindowError) {
        let timeZone: TimeZone
        if let zone {
            guard let named = TimeZone(identifier: zone) else { throw .unknownZone(zone) }
            timeZone = named
        } else {
            timeZone = TimeZone.current
        }
        self.zone = timeZone
        self.since = try since.map { text throws(TimeWindowError) in try Self.bound(text, .since, zone: timeZone, now: now, endOfDay: false) }
        self.until = try until.map { text throws(TimeWindowError) in try Self.bound(text, .until, zone: timeZone, now: now, endOfDay: true) }
        if let start = self.since, let end = self.until, start >= end {
            throw .startNotBeforeEnd(since: since!, until: until!)
        }
    }

    public static let unbounded = try! TimeWindow(since: nil, until: nil, zone: "UTC")

    /// The window in whole quarter hours (the rollups' unit), when it starts
    /// and ends on one; nil when a report must read the rows instead.
    var quarterHours: Range<Int64>? {
        func quarterHour(_ text: String?, unbounded: Int64) -> Int64? {
            guard let text else { return unbounded }
            guard let micros = Timestamp.microseconds(fromISO8601: text), micros % 900_000_000 == 0 else { return nil }
            return micros / 900_000_000
        }
        guard let lower = quarterHour(since, unbounded: Int64.min / 2),
              let upper = quarterHour(until, unbounded: Int64.max / 2) else { return nil }
        return lower..<upper
    }

    /// Whether `--project` values (none: every project) take this project, compared by its bytes.
    static func allows(_ projects: [String], _ project: String) -> Bool {
        projects.isEmpty || projects.contains { $0.sameBytes(as: project) }
    }

    /// `--project` or `--source` values as the JSON array the reports' SQL
    /// reads with `json_each`; nil for no filter.
    static func jsonList(_ projects: [String]) -> String? {
        projects.isEmpty ? nil : JSONValue.array(projects.map(JSONValue.string)).serialized
    }

    static func bound(_ text: String, _ bound: Bound, zone: TimeZone, now: Date, endOfDay: Bool) throws(TimeWindowError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let span = relativeSpan(trimmed) {
            let start = (now.timeIntervalSince1970 - span) / 900
            return Timestamp.format(date: Date(timeIntervalSince1970: start.rounded(.down) * 900))
        }
        if let (year, month) = monthOnly(trimmed) {
            let next = endOfDay ? (month == 12 ? (year + 1, 1) : (year, month + 1)) : (year, month)
            return Timestamp.format(date: localMidnight(days: Timestamp.daysFromCivil(year: next.0, month: next.1, day: 1), zone: zone))
        }
        if let (year, month, day) = dateOnly(trimmed) {
            let days = Timestamp.daysFromCivil(year: year, month: month, day: day) + (endOfDay ? 1 : 0)
            return Timestamp.format(date: localMidnight(days: days, zone: zone))
        }
        // A time with an offset is absolute; one without is local to the zone.
        if let micros = Timestamp.microseconds(fromISO8601: trimmed) {
            if hasOffset(trimmed) { return Timestamp.format(microseconds: micros) }
            return Timestamp.format(date: instant(ofClock: Double(micros) / 1_000_000, in: zone))
        }
        throw .notADate(bound, text)
    }

    static func relativeSpan(_ text: String) -> Double? {
        guard let unit = text.last, let amount = Double(text.dropLast()), amount >= 0 else { return nil }
        switch unit {
        case "m": return amount * 60
        case "h": return amount * 3600
        case "d": return amount * 86_400
        case "w": return amount * 7 * 86_400
        default: return nil
        }
    }

    static func dateOnly(_ text: String) -> (Int, Int, Int)? {
        let digits = text.replacingOccurrences(of: "-", with: "")
        guard digits.count == 8, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              text.count == 8 || (text.count == 10 && Array(text)[4] == "-" && Array(text)[7] == "-"),
              let value = Int(digits) else { return nil }
        let year = value / 10_000, month = value / 100 % 100, day = value % 100
        guard (1...12).contains(month), (1...Timestamp.daysIn(month: month, year: year)).contains(day) else { return nil }
        return (year, month, day)
    }

    static func monthOnly(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let year = Int(parts[0]), let month = Int(parts[1]), (1...12).contains(month) else { return nil }
        return (year, month)
    }

    static func hasOffset(_ text: String) -> Bool {
        guard let tIndex = text.firstIndex(where: { $0 == "T" || $0 == "t" || $0 == " " }) else { return false }
        let time = text[tIndex...]
        return time.hasSuffix("Z") || time.hasSuffix("z") || time.contains("+") || time.dropFirst().contains("-")
    }

    /// The instant local midnight starts `days` after the epoch in `zone`
    /// (on a day that starts with a DST gap, the first instant that exists).
    static func localMidnight(days: Int, zone: TimeZone) -> Date {
        instant(ofClock: Double(days) * 86_400, in: zone)
    }

    /// The instant the zone's clock shows this time (seconds since
    /// 1970-01-01T00:00:00 on that clock).
    static func instant(ofClock seconds: TimeInterval, in zone: TimeZone) -> Date {
        let naive = Date(timeIntervalSince1970: seconds)
        let guess = naive.addingTimeInterval(-Double(zone.secondsFromGMT(for: naive)))
        return naive.addingTimeInterval(-Double(zone.secondsFromGMT(for: guess)))
    }
}

/// A time window that cannot be made, in words without the command line's
/// flags (the CLI names them).
public enum TimeWindowError: Error, Equatable, CustomStringConvertible {
    case unknownZone(String)
    case notADate(TimeWindow.Bound, String)
    case startNotBeforeEnd(since: String, until: String)

    /// The forms a bound may take.
    public static let dateForms = "YYYY-MM-DD, YYYYMMDD, a month YYYY-MM, an ISO 8601 time, or a span such as 7d, 24h, 2w"

    public var description: String {
        switch self {
        case .unknownZone(let zone): "unknown time zone \"\(zone)\" (use an IANA name such as Europe/Berlin)"
        case let .notADate(bound, text): "the \(bound.rawValue) date \"\(text)\" is not a date (\(Self.dateForms))"
        case let .startNotBeforeEnd(since, until): "the start \(since) is not before the end \(until)"
        }
    }
}
