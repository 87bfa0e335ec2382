/// Reading a large JSON document without holding all of it as values: one
/// array member of an object is handed over element by element, and can be
/// read again later from the bytes, element by element.
extension JSONParser {
    /// The object that `bytes` holds, with the first member named `key` that
    /// is an array left empty (`[]`, in its place): each of its elements is
    /// passed to `element` as it is parsed (and then let go), and the byte
    /// range of the array's inside is returned, for `JSONArrayElements`.
    public static func parseObject(
        _ bytes: [UInt8], streamingArray key: String, element: (JSONValue) throws -> Void
    ) throws -> (object: JSONObject, arrayRange: Range<Int>?) {
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            parser.skipWhitespace()
            guard parser.position < buffer.count, buffer[parser.position] == UInt8(ascii: "{") else {
                throw parser.error("expected an object")
            }
            try parser.enter()
            parser.position += 1
            var members: [(key: String, value: JSONValue)] = []
            var arrayRange: Range<Int>?
            parser.skipWhitespace()
            if parser.position < buffer.count, buffer[parser.position] == UInt8(ascii: "}") {
                parser.position += 1
            } else {
                while true {
                    parser.skipWhitespace()
                    guard parser.position < buffer.count, buffer[parser.position] == UInt8(ascii: "\"") else {
                        throw parser.error("expected a member name")
                    }
                    let name = try parser.parseString()
                    parser.skipWhitespace()
                    guard parser.position < buffer.count, buffer[parser.position] == UInt8(ascii: ":") else {
                        throw parser.error("expected ':'")
                    }
                    parser.position += 1
                    parser.skipWhitespace()
                    if arrayRange == nil, name == key, parser.position < buffer.count, buffer[parser.position] == UInt8(ascii: "[") {
                        arrayRange = try parser.streamArray(element)
                        members.append((name, .array([])))
                    } else {
                        members.append((name, try parser.parseValue()))
                    }
                    parser.skipWhitespace()
                    guard parser.position < buffer.count else { throw parser.error("unexpected end of input in an object") }
                    if buffer[parser.position] == UInt8(ascii: ",") { parser.position += 1; continue }
                    if buffer[parser.position] == UInt8(ascii: "}") { parser.position += 1; break }
                    throw parser.error("expected ',' or '}'")
                }
            }
            parser.skipWhitespace()
            if parser.position != buffer.count { throw parser.error("unexpected data after the JSON value") }
            return (JSONObject(members), arrayRange)
        }
    }

    /// Parses the array at `position`, element by element; the range between its brackets.
    private mutating func streamArray(_ element: (JSONValue) throws -> Void) throws -> Range<Int> {
        try enter()
        defer { depth -= 1 }
        position += 1
        let start = position
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return start..<(position - 1)
        }
        while true {
            skipWhitespace()
            try element(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input in an array") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return start..<(position - 1) }
            throw error("expected ',' or ']'")
        }
    }

    /// The element at `position` inside an array already parsed once, and the
    /// position of the next (nil when the array ends there).
    static func element(in buffer: UnsafeBufferPointer<UInt8>, at position: Int, end: Int) -> (JSONValue, next: Int?)? {
        var parser = JSONParser(bytes: UnsafeBufferPointer(rebasing: buffer[..<end]))
        parser.position = position
        parser.skipWhitespace()
        guard parser.position < end, let value = try? parser.parseValue() else { return nil }
        parser.skipWhitespace()
        guard parser.position < end, buffer[parser.position] == UInt8(ascii: ",") else { return (value, nil) }
        return (value, parser.position + 1)
    }
}

/// The elements of an array that `JSONParser.parseObject(_:streamingArray:element:)`
/// found valid, parsed again one at a time from the bytes.
public struct JSONArrayElements: Sequence, Sendable {
    public let bytes: [UInt8]
    public let range: Range<Int>

    public init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.range = range
    }

    public struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        let end: Int
        var position: Int?

        public mutating func next() -> JSONValue? {
            guard let start = position else { return nil }
            let found = bytes.withUnsafeBufferPointer { JSONParser.element(in: $0, at: start, end: end) }
            position = found?.next
            return found?.0
        }
    }

    public func makeIterator() -> Iterator { Iterator(bytes: bytes, end: range.upperBound, position: range.lowerBound) }
}
