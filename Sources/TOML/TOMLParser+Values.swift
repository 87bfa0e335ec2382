/// Values: strings in their four forms, numbers, booleans, dates and times,
/// arrays and inline tables.
extension Parser {
    /// The value after `key =` (or in an array under that key).
    mutating func value(of path: [String]) throws(TOMLError) -> TOMLValue {
        guard let byte = peek else { throw failure("expected a value for \(Self.display(path))") }
        switch byte {
        case .quote: return .string(starts(with: "\"\"\"") ? try multilineBasicString() : try basicString())
        case .apostrophe: return .string(starts(with: "'''") ? try multilineLiteralString() : try literalString())
        case .openBracket: return try array(of: path)
        case .openBrace: return try inlineTable()
        default: break
        }
        if starts(with: "true") {
            position += 4
            return .boolean(true)
        }
        if starts(with: "false") {
            position += 5
            return .boolean(false)
        }
        if let dateTime = try dateTime() { return dateTime }
        if let time = time(at: position) {
            position = time.end
            return .localTime(time.time)
        }
        if let number = try number() { return number }
        for special: StaticString in ["inf", "nan", "+inf", "+nan", "-inf", "-nan"] where starts(with: special) {
            let text = String(decoding: bytes[position..<position + special.utf8CodeUnitCount], as: UTF8.self)
            position += special.utf8CodeUnitCount
            return .float(Double(text)!)
        }
        throw failure("cannot read the value of \(Self.display(path))")
    }

    // MARK: Arrays and inline tables

    mutating func enterNesting() throws(TOMLError) {
        nesting += 1
        guard nesting <= Self.deepestNesting else { throw failure("arrays and inline tables nest deeper than \(Self.deepestNesting)") }
    }

    /// Newlines, spaces and comments between an array's values.
    mutating func skipArrayFiller() throws(TOMLError) {
        while true {
            let before = position
            while let byte = peek, byte == .space || byte == .tab || byte == .lineFeed { position += 1 }
            try skipComment()
            if position == before { return }
        }
    }

    mutating func array(of path: [String]) throws(TOMLError) -> TOMLValue {
        try enterNesting()
        defer { nesting -= 1 }
        position += 1
        var items: [TOMLValue] = []
        try skipArrayFiller()
        while peek != .closeBracket {
            items.append(try value(of: path))
            try skipArrayFiller()
            if peek == .closeBracket { break }
            guard peek == .comma else { throw failure("expected , or ] in the array \(Self.display(path))") }
            position += 1
            try skipArrayFiller()
        }
        position += 1
        return .array(items)
    }

    /// `{ a = 1, b.c = 2 }`: on one line, no trailing comma, closed once read.
    mutating func inlineTable() throws(TOMLError) -> TOMLValue {
        try enterNesting()
        defer { nesting -= 1 }
        let table = TableUnderConstruction(origin: .dotted(open: true), line: line(at: position))
        var dotted: [TableUnderConstruction] = []
        position += 1
        skipWhitespace()
        if peek == .closeBrace {
            position += 1
            return .table(table.finished)
        }
        while true {
            try keyValue(into: table, openDotted: &dotted)
            skipWhitespace()
            if peek == .closeBrace {
                position += 1
                return .table(table.finished)
            }
            guard peek == .comma else { throw failure("expected , or } in the inline table (it ends on its own line)") }
            position += 1
            skipWhitespace()
        }
    }

    // MARK: Strings

    /// `"..."`; also a quoted key.
    mutating func basicString() throws(TOMLError) -> String {
        position += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw failure("the string is not closed") }
            switch byte {
            case .quote:
                position += 1
                return String(decoding: out, as: UTF8.self)
            case .backslash: try escape(into: &out, multiline: false)
            case _ where byte.isControl && byte != .tab:
                throw failure(byte == .lineFeed ? "the string is not closed on its line" : "a control character (\(byte.escaped)) in a string")
            default:
                out.append(byte)
                position += 1
            }
        }
    }

    /// `"""..."""`: a newline right after the opening quotes is dropped, a
    /// backslash at the end of a line joins it to the next non-blank text.
    mutating func multilineBasicString() throws(TOMLError) -> String {
        position += 3
        if peek == .lineFeed { position += 1 }
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw failure("the multi-line string is not closed") }
            switch byte {
            case .quote where starts(with: "\"\"\""):
                position += 3
                closingQuotes(.quote, into: &out)
                return String(decoding: out, as: UTF8.self)
            case .backslash: try escape(into: &out, multiline: true)
            case _ where byte.isControl && byte != .tab && byte != .lineFeed:
                throw failure("a control character (\(byte.escaped)) in a string")
            default:
                out.append(byte)
                position += 1
            }
        }
    }

    /// `'...'`: no escapes; also a quoted key.
    mutating func literalString() throws(TOMLError) -> String {
        position += 1
        let start = position
        while true {
            guard let byte = peek else { throw failure("the literal string is not closed") }
            if byte == .apostrophe { break }
            guard !byte.isControl || byte == .tab else {
                throw failure(byte == .lineFeed ? "the literal string is not closed on its line" : "a control character (\(byte.escaped)) in a string")
            }
            position += 1
        }
        position += 1
        return String(decoding: bytes[start..<position - 1], as: UTF8.self)
    }

    mutating func multilineLiteralString() throws(TOMLError) -> String {
        position += 3
        if peek == .lineFeed { position += 1 }
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw failure("the multi-line literal string is not closed") }
            if byte == .apostrophe, starts(with: "'''") {
                position += 3
                closingQuotes(.apostrophe, into: &out)
                return String(decoding: out, as: UTF8.self)
            }
            guard !byte.isControl || byte == .tab || byte == .lineFeed else { throw failure("a control character (\(byte.escaped)) in a string") }
            out.append(byte)
            position += 1
        }
    }

    /// One or two quotes right after the closing three belong to the string.
    mutating func closingQuotes(_ quote: UInt8, into out: inout [UInt8]) {
        for _ in 0..<2 where peek == quote {
            out.append(quote)
            position += 1
        }
    }

    mutating func escape(into out: inout [UInt8], multiline: Bool) throws(TOMLError) {
        let next = byte(at: position + 1)
        if multiline, let next, next == .space || next == .tab || next == .lineFeed {
            position += 2
            if next != .lineFeed {
                skipWhitespace()
                guard let byte = peek else { return }
                guard byte == .lineFeed else { throw failure("a backslash in a multi-line string must end its line, or escape a character") }
                position += 1
            }
            while let byte = peek, byte == .space || byte == .tab || byte == .lineFeed { position += 1 }
            return
        }
        let replacement: UInt8? = switch next {
        case 0x62: 0x08  // \b
        case 0x74: 0x09  // \t
        case 0x6E: 0x0A  // \n
        case 0x66: 0x0C  // \f
        case 0x72: 0x0D  // \r
        case .quote, .backslash: next
        default: nil
        }
        if let replacement {
            out.append(replacement)
            position += 2
            return
        }
        let digits = next == 0x75 ? 4 : next == 0x55 ? 8 : 0  // \u and \U
        guard digits > 0 else {
            throw failure("unknown escape \\\(next.map { $0.isControl || $0 > 0x7E ? $0.escaped : String(UnicodeScalar($0)) } ?? "")")
        }
        let start = position + 2
        guard start + digits <= bytes.count, bytes[start..<start + digits].allSatisfy(\.isHexDigit),
              let code = UInt32(String(decoding: bytes[start..<start + digits], as: UTF8.self), radix: 16) else {
            throw failure("\\\(digits == 4 ? "u" : "U") needs \(digits) hexadecimal digits")
        }
        guard let scalar = Unicode.Scalar(code) else { throw failure("\\\(digits == 4 ? "u" : "U")\(String(code, radix: 16, uppercase: true)) is not a Unicode scalar value") }
        out.append(contentsOf: Array(String(scalar).utf8))
        position = start + digits
    }
}
