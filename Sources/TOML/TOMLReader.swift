import LosslessJSON

/// A document that is not TOML 1.0, with the line of the first fault.
public struct TOMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let message: String

    public var description: String { "line \(line): \(message)" }
}

/// Reads TOML 1.0 (https://toml.io/en/v1.0.0) from UTF-8 bytes. It accepts
/// and refuses what Python's `tomllib` does, with the same values, save one
/// rule of the specification `tomllib` relaxes: an integer must fit in 64
/// bits. A byte order mark is the caller's to remove (it is not TOML).
public enum TOMLReader {
    public static func parse(_ bytes: [UInt8]) throws(TOMLError) -> TOMLTable {
        if let bad = firstInvalidUTF8(bytes) {
            throw TOMLError(line: bytes[..<bad].count { $0 == 0x0A } + 1, message: "the text is not UTF-8")
        }
        var parser = Parser(bytes: withoutCarriageReturnsBeforeLineFeeds(bytes))
        return try parser.document()
    }

    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        try parse(Array(text.utf8))
    }

    /// A file's bytes: a UTF-8 byte order mark before the first key is
    /// allowed and dropped (as Python's `utf-8-sig` decoding does).
    public static func parse(fileContents bytes: [UInt8]) throws(TOMLError) -> TOMLTable {
        try parse(bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes)
    }

    /// A key as messages show it: bare parts as they are, others quoted with
    /// their control characters escaped.
    public static func display(_ path: [String]) -> String { Parser.display(path) }

    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// TOML lets a reader turn CRLF into LF everywhere, strings included
    /// (as `tomllib` does); a lone CR stays and is refused where it stands.
    static func withoutCarriageReturnsBeforeLineFeeds(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x0D) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for (index, byte) in bytes.enumerated() where !(byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A) {
            out.append(byte)
        }
        return out
    }
}

/// A table while the document is read: tables are shared and grow as later
/// headers and dotted keys reach them.
final class TableUnderConstruction {
    enum Origin {
        /// Made as the parent of a header (`a` of `[a.b]`): a header or dotted keys may still define it.
        case implicit
        /// Defined by a `[header]`.
        case header
        /// Defined by dotted keys; open to more of them until the next header.
        case dotted(open: Bool)
        /// An element of an array of tables.
        case arrayElement
    }

    enum Slot {
        case value(TOMLValue)                         // a scalar, or a whole inline table or array: closed
        case table(TableUnderConstruction)
        case arrayOfTables([TableUnderConstruction])  // made by [[header]]: open to more elements
    }

    var origin: Origin
    var line: Int
    var slots: [(key: String, slot: Slot, line: Int)] = []
    var index: [ExactText: Int] = [:]

    init(origin: Origin, line: Int) {
        self.origin = origin
        self.line = line
    }

    subscript(key: String) -> Slot? {
        index[ExactText(key)].map { slots[$0].slot }
    }

    func set(_ key: String, _ slot: Slot, line: Int) {
        if let existing = index[ExactText(key)] {
            slots[existing].slot = slot
        } else {
            index[ExactText(key)] = slots.count
            slots.append((key, slot, line))
        }
    }

    var finished: TOMLTable {
        TOMLTable(entries: slots.map { entry in
            let value: TOMLValue = switch entry.slot {
            case .value(let value): value
            case .table(let table): .table(table.finished)
            case .arrayOfTables(let tables): .array(tables.map { .table($0.finished) })
            }
            return TOMLTable.Entry(key: entry.key, value: value, line: entry.line)
        }, line: line)
    }
}
