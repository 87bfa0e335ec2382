import LosslessJSON

/// A value of a TOML 1.0 document.
public indirect enum TOMLValue: Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    /// An instant: a date and time at an offset from UTC, in minutes.
    case offsetDateTime(TOMLDate, TOMLTime, offsetMinutes: Int)
    case localDateTime(TOMLDate, TOMLTime)
    case localDate(TOMLDate)
    case localTime(TOMLTime)
    case array([TOMLValue])
    case table(TOMLTable)

    /// What the value is, in the words of the TOML specification.
    public var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .boolean: "a boolean"
        case .offsetDateTime: "an offset date-time"
        case .localDateTime: "a local date-time"
        case .localDate: "a local date"
        case .localTime: "a local time"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// A calendar date (proleptic Gregorian, year 1 to 9999).
public struct TOMLDate: Sendable, Equatable {
    public let year: Int, month: Int, day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }
}

/// A time of day; fractions of a second beyond microseconds are dropped.
public struct TOMLTime: Sendable, Equatable {
    public let hour: Int, minute: Int, second: Int, microsecond: Int

    public init(hour: Int, minute: Int, second: Int, microsecond: Int) {
        self.hour = hour
        self.minute = minute
        self.second = second
        self.microsecond = microsecond
    }
}

/// A table: its entries in the order the document defines them, each with
/// the line its key is on.
public struct TOMLTable: Sendable {
    public struct Entry: Sendable {
        public let key: String
        public let value: TOMLValue
        public let line: Int

        public init(key: String, value: TOMLValue, line: Int) {
            self.key = key
            self.value = value
            self.line = line
        }
    }

    public let entries: [Entry]
    /// The line that defined the table: its header, its first dotted key, or
    /// the key of an inline table; 0 for the document itself.
    public let line: Int

    public init(entries: [Entry], line: Int) {
        self.entries = entries
        self.line = line
    }

    /// The entry whose key has these bytes.
    public subscript(key: String) -> Entry? {
        entries.first { $0.key.sameBytes(as: key) }
    }
}
