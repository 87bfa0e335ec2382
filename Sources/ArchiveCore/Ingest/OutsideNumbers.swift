import LosslessJSON

/// The one rule for numbers that come from outside (ARCHITECTURE.md,
/// "Numbers from outside"): a count (tokens, turns) is a whole number from 0
/// to 2^53-1, a duration a finite number of milliseconds in the same range.
/// A value outside its range, or of another JSON type, is kept only as sent
/// (the event's or the session's JSON, byte for byte, which export gives
/// back): its column is NULL, nothing adds it, and the session's
/// `number_faults` says which field it was. Sums of kept values saturate at
/// 2^63-1 and say so there too. No session is refused for its numbers.
enum OutsideNumbers {
    /// 2^53-1: exact as a double as well, so every engine that reads the
    /// archive or its dataset (DuckDB, ClickHouse, JavaScript in Datasette)
    /// reads each count as it is; and about a thousand of them add up to
    /// 2^63, a million times more tokens than any run has used.
    static let largest: Int64 = 9_007_199_254_740_991

    enum Reading<Value> {
        case absent
        case kept(Value)
        /// Why it was not kept, in words that follow the field's name.
        case refused(String)

        var value: Value? { if case .kept(let value) = self { value } else { nil } }
    }

    static func count(_ value: JSONValue?) -> Reading<Int64> {
        switch value {
        case nil, .null?: return .absent
        case .number(let number)?:
            guard let integer = number.int64Value else {
                return .refused("\(shown(number.literal)) is not a whole number within 64 bits")
            }
            guard integer >= 0 else { return .refused("\(shown(number.literal)) is negative") }
            guard integer <= largest else { return .refused("\(shown(number.literal)) is above 2^53-1") }
            return .kept(integer)
        case let other?: return .refused("is \(kind(of: other)), not a number")
        }
    }

    static func duration(_ value: JSONValue?) -> Reading<Double> {
        switch value {
        case nil, .null?: return .absent
        case .number(let number)?:
            guard let real = number.doubleValue, real.isFinite else { return .refused("\(shown(number.literal)) is not a finite number") }
            guard real >= 0 else { return .refused("\(shown(number.literal)) is negative") }
            guard real <= Double(largest) else { return .refused("\(shown(number.literal)) is above 2^53-1") }
            return .kept(real)
        case let other?: return .refused("is \(kind(of: other)), not a number")
        }
    }

    private static func shown(_ literal: String) -> String {
        literal.utf8.count <= 40 ? literal : String(literal.prefix(37)) + "..."
    }

    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .string: "a string"
        case .bool: "a boolean"
        case .array: "an array"
        case .object: "an object"
        case .number, .null: "a number"
        }
    }
}

/// What a session's numbers held that the archive keeps only as sent, for
/// `sessions.number_faults`: the first few, and how many more.
public struct NumberFaults: Sendable, Equatable {
    public private(set) var notes: [String] = []
    public private(set) var count = 0
    static let shownAtMost = 3

    mutating func note(_ text: String) {
        count += 1
        if notes.count < Self.shownAtMost { notes.append(text) }
    }

    mutating func take<Value>(_ reading: OutsideNumbers.Reading<Value>, field: @autoclosure () -> String) -> Value? {
        if case .refused(let why) = reading { note("\(field()) \(why): kept as sent, not counted") }
        return reading.value
    }

    mutating func add(_ other: NumberFaults) {
        for note in other.notes where notes.count < Self.shownAtMost { notes.append(note) }
        count += other.count
    }

    /// One line, or nil when nothing was refused.
    public var summary: String? {
        guard count > 0 else { return nil }
        let more = count - notes.count
        return notes.joined(separator: "; ") + (more > 0 ? "; and \(more) more" : "")
    }
}
