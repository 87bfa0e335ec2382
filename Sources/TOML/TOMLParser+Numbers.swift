/// Integers, floats, dates and times. Each reads the longest text its form
/// allows and leaves the rest to the caller, which refuses what cannot
/// follow a value: so `1979-05-27T07:32` is a date followed by `T07:32`, an error.
extension Parser {
    // MARK: Numbers

    /// `digit (_? digit)*` from `offset`, in the given base; the end, or nil
    /// when no digit starts there.
    func digitRun(from offset: Int, isDigit: (UInt8) -> Bool) -> Int? {
        guard let first = byte(at: offset), isDigit(first) else { return nil }
        var end = offset + 1
        while let byte = byte(at: end) {
            if isDigit(byte) {
                end += 1
            } else if byte == .underscore, let after = self.byte(at: end + 1), isDigit(after) {
                end += 2
            } else {
                break
            }
        }
        return end
    }

    mutating func number() throws(TOMLError) -> TOMLValue? {
        let start = position
        if peek == 0x30, let prefix = byte(at: start + 1) {
            let base: (radix: Int, isDigit: (UInt8) -> Bool)? = switch prefix {
            case 0x78: (16, { $0.isHexDigit })
            case 0x6F: (8, { (0x30...0x37).contains($0) })
            case 0x62: (2, { $0 == 0x30 || $0 == 0x31 })
            default: nil
            }
            if let base, let end = digitRun(from: start + 2, isDigit: base.isDigit) {
                let digits = String(decoding: bytes[start + 2..<end].filter { $0 != .underscore }, as: UTF8.self)
                guard let value = Int64(digits, radix: base.radix) else { throw failure("the integer does not fit in 64 bits") }
                position = end
                return .integer(value)
            }
        }
        var end = start
        if peek == .plus || peek == .minus { end += 1 }
        guard let first = byte(at: end), first.isDigit else { return nil }
        end = first == 0x30 ? end + 1 : digitRun(from: end, isDigit: \.isDigit)!
        let integerEnd = end
        if byte(at: end) == .dot, let fraction = digitRun(from: end + 1, isDigit: \.isDigit) { end = fraction }
        if let e = byte(at: end), e == 0x65 || e == 0x45 {
            var exponent = end + 1
            if byte(at: exponent) == .plus || byte(at: exponent) == .minus { exponent += 1 }
            if let run = digitRun(from: exponent, isDigit: \.isDigit) { end = run }
        }
        let text = String(decoding: bytes[start..<end].filter { $0 != .underscore }, as: UTF8.self)
        position = end
        if end == integerEnd {
            guard let value = Int64(text) else { throw failure("the integer \(text) does not fit in 64 bits", at: start) }
            return .integer(value)
        }
        return .float(Double(text)!)
    }

    // MARK: Dates and times

    /// Two digits at `offset` as a number within `range`.
    func twoDigits(at offset: Int, in range: ClosedRange<Int>) -> Int? {
        guard let tens = byte(at: offset), let ones = byte(at: offset + 1), tens.isDigit, ones.isDigit else { return nil }
        let value = Int(tens - 0x30) * 10 + Int(ones - 0x30)
        return range.contains(value) ? value : nil
    }

    /// `HH:MM:SS` with an optional fraction (kept to microseconds).
    func time(at offset: Int) -> (time: TOMLTime, end: Int)? {
        guard let hour = twoDigits(at: offset, in: 0...23), byte(at: offset + 2) == .colon,
              let minute = twoDigits(at: offset + 3, in: 0...59), byte(at: offset + 5) == .colon,
              let second = twoDigits(at: offset + 6, in: 0...59) else { return nil }
        var end = offset + 8
        var microsecond = 0
        if byte(at: end) == .dot, let first = byte(at: end + 1), first.isDigit {
            end += 1
            var digits = 0
            while let digit = byte(at: end), digit.isDigit {
                if digits < 6 { microsecond = microsecond * 10 + Int(digit - 0x30) }
                digits += 1
                end += 1
            }
            for _ in min(digits, 6)..<6 { microsecond *= 10 }
        }
        return (TOMLTime(hour: hour, minute: minute, second: second, microsecond: microsecond), end)
    }

    /// A local date, a local date-time or an offset date-time; nil when no
    /// date starts here. A date that does not exist (`2026-02-30`) is an error.
    mutating func dateTime() throws(TOMLError) -> TOMLValue? {
        let start = position
        guard (0..<4).allSatisfy({ byte(at: start + $0)?.isDigit == true }), byte(at: start + 4) == .minus,
              let month = twoDigits(at: start + 5, in: 1...12), byte(at: start + 7) == .minus,
              let day = twoDigits(at: start + 8, in: 1...31) else { return nil }
        let year = bytes[start..<start + 4].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard year >= 1, day <= Self.days(inMonth: month, of: year) else { throw failure("\(year)-\(month)-\(day) is not a date") }
        let date = TOMLDate(year: year, month: month, day: day)
        position = start + 10
        guard let separator = peek, separator == 0x54 || separator == 0x74 || separator == .space,
              let (time, end) = time(at: start + 11) else { return .localDate(date) }
        position = end
        if let zulu = peek, zulu == 0x5A || zulu == 0x7A {
            position += 1
            return .offsetDateTime(date, time, offsetMinutes: 0)
        }
        if let sign = peek, sign == .plus || sign == .minus, let hours = twoDigits(at: position + 1, in: 0...23),
           byte(at: position + 3) == .colon, let minutes = twoDigits(at: position + 4, in: 0...59) {
            position += 6
            return .offsetDateTime(date, time, offsetMinutes: (sign == .minus ? -1 : 1) * (hours * 60 + minutes))
        }
        return .localDateTime(date, time)
    }

    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
