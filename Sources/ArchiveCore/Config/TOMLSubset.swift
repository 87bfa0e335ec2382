/// The part of TOML the config and pricing files use: `key = value` lines,
/// `[table]` headers and `[[table]]` array headers, `#` comments; values are
/// basic strings (with TOML's escapes), numbers, booleans, dates
/// (`2026-02-01`) and one-line arrays of those. Anything else is refused with
/// its line number.
struct TOMLSubset {
    enum Value: Equatable {
        case text(String)
        case number(Double)
        case bool(Bool)
        case date(String)
        case array([Value])
    }

    /// One `key = value` line, with where it came from.
    struct Entry: Equatable {
        let key: String
        let value: Value
        let line: Int
    }

    /// One table: its header (`""` for the top, `sync` for `[sync]`, `rates`
    /// for each `[[rates]]`), the line of the header, and its entries.
    struct Table: Equatable {
        let name: String
        let isArrayElement: Bool
        let line: Int
        var entries: [Entry] = []
    }

    struct Failure: Error, Equatable {
        let line: Int
        let message: String
    }

    let tables: [Table]

    init(_ text: String) throws(Failure) {
        var tables = [Table(name: "", isArrayElement: false, line: 0)]
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            var scanner = Scanner(Array(raw.utf8).filter { $0 != 13 }, line: number)
            scanner.skipSpaces()
            if scanner.atEndOfLine { continue }
            if scanner.peek == UInt8(ascii: "[") {
                let array = scanner.starts(with: "[[")
                scanner.index += array ? 2 : 1
                scanner.skipSpaces()
                let name = try scanner.bareKey()
                scanner.skipSpaces()
                guard scanner.consume(array ? "]]" : "]") else { throw Failure(line: number, message: "expected \(array ? "]]" : "]") after [\(array ? "[" : "")\(name)") }
                try scanner.expectEndOfLine()
                if !array, tables.contains(where: { $0.name == name && !$0.isArrayElement }) {
                    throw Failure(line: number, message: "table [\(name)] defined twice")
                }
                tables.append(Table(name: name, isArrayElement: array, line: number))
                continue
            }
            let key = try scanner.bareKey()
            scanner.skipSpaces()
            guard scanner.consume("=") else { throw Failure(line: number, message: "expected key = value") }
            scanner.skipSpaces()
            let value: Value
            do { value = try scanner.value() } catch where error.message == "cannot read the value" {
                throw Failure(line: number, message: "cannot read the value of \(key)")
            }
            try scanner.expectEndOfLine()
            if tables[tables.count - 1].entries.contains(where: { $0.key == key }) {
                throw Failure(line: number, message: "\(key) set twice")
            }
            tables[tables.count - 1].entries.append(Entry(key: key, value: value, line: number))
        }
        self.tables = tables
    }

    private struct Scanner {
        let bytes: [UInt8]
        let line: Int
        var index = 0

        init(_ bytes: [UInt8], line: Int) {
            self.bytes = bytes
            self.line = line
        }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
        var atEndOfLine: Bool { peek == nil || peek == UInt8(ascii: "#") }

        mutating func skipSpaces() { while peek == 0x20 || peek == 0x09 { index += 1 } }

        func starts(with text: String) -> Bool { bytes[index...].starts(with: Array(text.utf8)) }

        mutating func consume(_ text: String) -> Bool {
            guard starts(with: text) else { return false }
            index += text.utf8.count
            return true
        }

        func failure(_ message: String) -> Failure { Failure(line: line, message: message) }

        mutating func expectEndOfLine() throws(Failure) {
            skipSpaces()
            guard atEndOfLine else { throw failure("unexpected text after the value") }
        }

        mutating func bareKey() throws(Failure) -> String {
            let start = index
            while let byte = peek, byte.isBareKeyByte { index += 1 }
            guard index > start else { throw failure("expected a key (letters, digits, _ and -)") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func value() throws(Failure) -> Value {
            guard let byte = peek else { throw failure("expected a value") }
            switch byte {
            case UInt8(ascii: "\""): return .text(try string())
            case UInt8(ascii: "["):
                index += 1
                var items: [Value] = []
                while true {
                    skipSpaces()
                    if consume("]") { return .array(items) }
                    items.append(try value())
                    skipSpaces()
                    if consume(",") { continue }
                    guard consume("]") else { throw failure("expected , or ] in the array") }
                    return .array(items)
                }
            default:
                let start = index
                while let next = peek, next != 0x20, next != 0x09, next != UInt8(ascii: ","), next != UInt8(ascii: "]"),
                      next != UInt8(ascii: "#") { index += 1 }
                let word = String(decoding: bytes[start..<index], as: UTF8.self)
                if word == "true" { return .bool(true) }
                if word == "false" { return .bool(false) }
                if TimeWindow.dateOnly(word) != nil, word.count == 10 { return .date(word) }
                if let number = Double(word.replacingOccurrences(of: "_", with: "")), number.isFinite,
                   word.first.map({ $0.isNumber || $0 == "-" || $0 == "+" }) == true { return .number(number) }
                throw failure(word.isEmpty ? "expected a value" : "cannot read the value")
            }
        }

        mutating func string() throws(Failure) -> String {
            index += 1
            var out: [UInt8] = []
            while let byte = peek {
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: out, as: UTF8.self) else { throw failure("the string is not UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    guard let escaped = peek else { break }
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(escaped)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard index + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(code) else { throw failure("bad \\u escape") }
                        index += 4
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: throw failure("unknown escape \\\(Character(Unicode.Scalar(escaped)))")
                    }
                case 0x00..<0x20 where byte != 0x09: throw failure("a control character in a string")
                default: out.append(byte)
                }
            }
            throw failure("the string is not closed")
        }
    }
}

private extension UInt8 {
    var isBareKeyByte: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "_") || self == UInt8(ascii: "-")
    }
}
