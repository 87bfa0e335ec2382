import Foundation
import TOML

/// When a price starts. A local date means midnight, and a local date-time
/// that time on the clock, in the report's zone (`--tz`, else the config's
/// `tz`); an offset date-time is that instant wherever the report is read.
public enum RateStart: Sendable, Equatable, CustomStringConvertible {
    /// Days since 1970-01-01.
    case localDate(days: Int)
    /// Seconds since 1970-01-01T00:00:00 on the zone's clock.
    case localDateTime(clockSeconds: Int64)
    /// Epoch seconds, and the offset it was written with.
    case instant(seconds: Int64, offsetMinutes: Int)

    static let expected = "must be a date (2026-02-01), a local date-time (2026-02-01T09:00:00) or an offset date-time (2026-02-01T09:00:00+01:00)"

    init(_ date: TOMLDate) {
        self = .localDate(days: Timestamp.daysFromCivil(year: date.year, month: date.month, day: date.day))
    }

    init(_ date: TOMLDate, _ time: TOMLTime) {
        self = .localDateTime(clockSeconds: Self.clockSeconds(date, time))
    }

    init(_ date: TOMLDate, _ time: TOMLTime, offsetMinutes: Int) {
        self = .instant(seconds: Self.clockSeconds(date, time) - Int64(offsetMinutes) * 60, offsetMinutes: offsetMinutes)
    }

    /// The same forms written as text (a JSON pricing file, or a quoted TOML value).
    init?(text: String) {
        guard !text.contains(where: \.isNewline), let entry = try? TOMLReader.parse("from = " + text)["from"] else { return nil }
        switch entry.value {
        case .localDate(let date): self.init(date)
        case .localDateTime(let date, let time): self.init(date, time)
        case .offsetDateTime(let date, let time, let offset): self.init(date, time, offsetMinutes: offset)
        default: return nil
        }
    }

    /// Whole seconds: a fraction of a second in the file is dropped.
    static func clockSeconds(_ date: TOMLDate, _ time: TOMLTime) -> Int64 {
        Int64(Timestamp.daysFromCivil(year: date.year, month: date.month, day: date.day)) * 86_400
            + Int64(time.hour * 3600 + time.minute * 60 + time.second)
    }

    /// Epoch seconds of the start, local forms read in `zone`.
    public func seconds(in zone: TimeZone) -> Int64 {
        switch self {
        case .localDate(let days): Int64(TimeWindow.instant(ofClock: Double(days) * 86_400, in: zone).timeIntervalSince1970)
        case .localDateTime(let clock): Int64(TimeWindow.instant(ofClock: Double(clock), in: zone).timeIntervalSince1970)
        case .instant(let seconds, _): seconds
        }
    }

    /// As it was written (an instant in its own offset).
    public var description: String {
        func clock(_ seconds: Int64) -> String {
            let days = Int(seconds.floorDivided(by: 86_400)), time = Int(seconds - Int64(days) * 86_400)
            return Timestamp.dayLabel(days) + String(format: "T%02d:%02d:%02d", time / 3600, time / 60 % 60, time % 60)
        }
        switch self {
        case .localDate(let days): return Timestamp.dayLabel(days)
        case .localDateTime(let seconds): return clock(seconds)
        case .instant(let seconds, let offset):
            let zone = offset == 0 ? "Z" : (offset < 0 ? "-" : "+") + String(format: "%02d:%02d", abs(offset) / 60, abs(offset) % 60)
            return clock(seconds + Int64(offset) * 60) + zone
        }
    }
}
