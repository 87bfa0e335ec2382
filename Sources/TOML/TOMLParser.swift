/// Statements, keys and tables: what a line of a document can be, and the
/// specification's rules for which table a key may still be added to.
struct Parser {
    let bytes: [UInt8]
    var position = 0
    private let lineFeeds: [Int]
    /// Arrays and inline tables nest no deeper than this (the reader is
    /// recursive; a hostile file must not overflow its stack).
    static let deepestNesting = 256
    var nesting = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        lineFeeds = bytes.indices.filter { bytes[$0] == .lineFeed }
    }

    // MARK: Bytes

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    func byte(at offset: Int) -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

    func starts(with text: StaticString, at offset: Int? = nil) -> Bool {
        let start = offset ?? position
        let count = text.utf8CodeUnitCount
        guard start + count <= bytes.count else { return false }
        return text.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[start + $0] == expected[$0] }
        }
    }

    /// The line of a byte offset, from 1.
    func line(at offset: Int) -> Int {
        var low = 0, high = lineFeeds.count
        while low < high {
            let middle = (low + high) / 2
            if lineFeeds[middle] < offset { low = middle + 1 } else { high = middle }
        }
        return low + 1
    }

    func failure(_ message: String, at offset: Int? = nil) -> TOMLError {
        TOMLError(line: line(at: offset ?? position), message: message)
    }

    mutating func skipWhitespace() {
        while let byte = peek, byte == .space || byte == .tab { position += 1 }
    }

    /// A comment runs to the end of its line and may hold no control character but tab.
    mutating func skipComment() throws(TOMLError) {
        guard peek == .hash else { return }
        while let byte = peek, byte != .lineFeed {
            guard !byte.isControl || byte == .tab else { throw failure("a control character (\(byte.escaped)) in a comment") }
            position += 1
        }
    }

    // MARK: The document

    mutating func document() throws(TOMLError) -> TOMLTable {
        let root = TableUnderConstruction(origin: .header, line: 0)
        var current = root
        var openDotted: [TableUnderConstruction] = []
        while true {
            skipWhitespace()
            guard let byte = peek else { break }
            if byte == .lineFeed {
                position += 1
                continue
            }
            if byte.startsKey {
                try keyValue(into: current, openDotted: &openDotted)
                skipWhitespace()
            } else if byte == .openBracket {
                // A header closes the tables dotted keys defined before it.
                for table in openDotted { table.origin = .dotted(open: false) }
                openDotted.removeAll()
                current = self.byte(at: position + 1) == .openBracket ? try arrayOfTablesHeader(root) : try tableHeader(root)
                skipWhitespace()
            } else if byte != .hash {
                throw failure("expected a key, a [table] header or a comment")
            }
            try skipComment()
            guard let end = peek else { break }
            guard end == .lineFeed else { throw failure("expected the end of the line") }
            position += 1
        }
        return root.finished
    }

    /// `key = value`, in a table or an inline table.
    mutating func keyValue(into table: TableUnderConstruction, openDotted: inout [TableUnderConstruction]) throws(TOMLError) {
        let start = position
        let path = try key()
        guard peek == .equals else { throw failure("expected = after the key \(Self.display(path))") }
        position += 1
        skipWhitespace()
        let value = try value(of: path)
        try assign(value, to: path, in: table, line: line(at: start), openDotted: &openDotted)
    }

    /// Puts a value at a dotted path below `table`, making the tables on the
    /// way: dotted keys may add to a table only while no header has closed it.
    func assign(_ value: TOMLValue, to path: [String], in table: TableUnderConstruction, line: Int,
                openDotted: inout [TableUnderConstruction]) throws(TOMLError) {
        var table = table
        for (depth, part) in path.dropLast().enumerated() {
            let name = Self.display(Array(path[...depth]))
            switch table[part] {
            case nil:
                let made = TableUnderConstruction(origin: .dotted(open: true), line: line)
                table.set(part, .table(made), line: line)
                openDotted.append(made)
                table = made
            case .table(let next):
                switch next.origin {
                case .implicit:
                    next.origin = .dotted(open: true)
                    openDotted.append(next)
                case .dotted(open: true): break
                case .header, .arrayElement: throw TOMLError(line: line, message: "\(name) is a table with a header: a dotted key cannot add to it")
                case .dotted(open: false): throw TOMLError(line: line, message: "\(name) was defined by dotted keys above a header: it cannot be added to here")
                }
                table = next
            case .arrayOfTables: throw TOMLError(line: line, message: "\(name) is an array of tables: a dotted key cannot add to it")
            case .value(let existing): throw TOMLError(line: line, message: "\(name) is already \(existing.typeName)")
            }
        }
        let last = path[path.count - 1]
        guard table[last] == nil else { throw TOMLError(line: line, message: "\(Self.display(path)) is defined twice") }
        table.set(last, .value(value), line: line)
    }

    /// `[a.b]`: a table of its own, defined once.
    mutating func tableHeader(_ root: TableUnderConstruction) throws(TOMLError) -> TableUnderConstruction {
        let start = position
        position += 1
        skipWhitespace()
        let path = try key()
        guard peek == .closeBracket else { throw failure("expected ] after [\(Self.display(path))") }
        position += 1
        let line = line(at: start)
        let parent = try parentTable(of: path, from: root, line: line)
        let last = path[path.count - 1]
        switch parent[last] {
        case nil:
            let table = TableUnderConstruction(origin: .header, line: line)
            parent.set(last, .table(table), line: line)
            return table
        case .table(let table):
            guard case .implicit = table.origin else {
                throw TOMLError(line: line, message: "the table [\(Self.display(path))] is defined twice (a header, or dotted keys, defined it above)")
            }
            table.origin = .header
            table.line = line
            return table
        case .arrayOfTables: throw TOMLError(line: line, message: "[\(Self.display(path))] is already an array of tables ([[\(Self.display(path))]])")
        case .value(let value): throw TOMLError(line: line, message: "[\(Self.display(path))]: \(Self.display(path)) is already \(value.typeName)")
        }
    }

    /// `[[a.b]]`: one more table at the end of an array of tables.
    mutating func arrayOfTablesHeader(_ root: TableUnderConstruction) throws(TOMLError) -> TableUnderConstruction {
        let start = position
        position += 2
        skipWhitespace()
        let path = try key()
        guard starts(with: "]]") else { throw failure("expected ]] after [[\(Self.display(path))") }
        position += 2
        let line = line(at: start)
        let parent = try parentTable(of: path, from: root, line: line)
        let last = path[path.count - 1]
        let element = TableUnderConstruction(origin: .arrayElement, line: line)
        switch parent[last] {
        case nil: parent.set(last, .arrayOfTables([element]), line: line)
        case .arrayOfTables(let elements): parent.set(last, .arrayOfTables(elements + [element]), line: line)
        case .table: throw TOMLError(line: line, message: "[[\(Self.display(path))]]: \(Self.display(path)) is already a table")
        case .value(let value): throw TOMLError(line: line, message: "[[\(Self.display(path))]]: \(Self.display(path)) is already \(value.typeName)")
        }
        return element
    }

    /// The table a header's last key goes in, making the ones on the way; an
    /// array of tables on the way means its last element.
    func parentTable(of path: [String], from root: TableUnderConstruction, line: Int) throws(TOMLError) -> TableUnderConstruction {
        var table = root
        for (depth, part) in path.dropLast().enumerated() {
            switch table[part] {
            case nil:
                let made = TableUnderConstruction(origin: .implicit, line: line)
                table.set(part, .table(made), line: line)
                table = made
            case .table(let next): table = next
            case .arrayOfTables(let elements): table = elements[elements.count - 1]
            case .value(let value): throw TOMLError(line: line, message: "\(Self.display(Array(path[...depth]))) is already \(value.typeName)")
            }
        }
        return table
    }

    // MARK: Keys

    /// A key: bare or quoted parts joined by dots, with spaces around the dots allowed.
    mutating func key() throws(TOMLError) -> [String] {
        var parts = [try keyPart()]
        skipWhitespace()
        while peek == .dot {
            position += 1
            skipWhitespace()
            parts.append(try keyPart())
            skipWhitespace()
        }
        return parts
    }

    mutating func keyPart() throws(TOMLError) -> String {
        guard let byte = peek else { throw failure("expected a key") }
        if byte == .quote { return try basicString() }
        if byte == .apostrophe { return try literalString() }
        let start = position
        while let next = peek, next.isBareKeyByte { position += 1 }
        guard position > start else { throw failure("expected a key (letters, digits, _ and -, or a quoted key)") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// A key as a message shows it: bare parts as they are, others quoted
    /// with their control characters escaped (a key may hold any text).
    static func display(_ path: [String]) -> String {
        path.map { part in
            if !part.isEmpty, part.utf8.allSatisfy(\.isBareKeyByte) { return part }
            var quoted = "\""
            for scalar in part.unicodeScalars {
                switch scalar {
                case "\"": quoted += "\\\""
                case "\\": quoted += "\\\\"
                case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                    quoted += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16, uppercase: true)
                default: quoted.unicodeScalars.append(scalar)
                }
            }
            return quoted + "\""
        }.joined(separator: ".")
    }
}

extension UInt8 {
    static let tab: UInt8 = 0x09, lineFeed: UInt8 = 0x0A, space: UInt8 = 0x20, quote: UInt8 = 0x22, hash: UInt8 = 0x23
    static let apostrophe: UInt8 = 0x27, plus: UInt8 = 0x2B, comma: UInt8 = 0x2C, minus: UInt8 = 0x2D, dot: UInt8 = 0x2E
    static let colon: UInt8 = 0x3A, equals: UInt8 = 0x3D, openBracket: UInt8 = 0x5B, backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D, underscore: UInt8 = 0x5F, openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D

    var isBareKeyByte: Bool {
        (0x61...0x7A).contains(self) || (0x41...0x5A).contains(self) || isDigit || self == .underscore || self == .minus
    }

    var startsKey: Bool { isBareKeyByte || self == .quote || self == .apostrophe }
    var isDigit: Bool { (0x30...0x39).contains(self) }
    var isHexDigit: Bool { isDigit || (0x41...0x46).contains(self) || (0x61...0x66).contains(self) }
    /// ASCII's control characters: 0 to 31 and DEL.
    var isControl: Bool { self < 0x20 || self == 0x7F }
    var escaped: String { "U+" + String(repeating: "0", count: self < 0x10 ? 3 : 2) + String(self, radix: 16, uppercase: true) }
}
