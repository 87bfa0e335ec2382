/// Text from outside compared, hashed and ordered by its UTF-8 bytes, as
/// SQLite's BINARY collation compares it. Swift's `String` equality and
/// hashing are canonical equivalence: they take `é` (U+00E9) and `e` + U+0301,
/// or `K` and the Kelvin sign, for one, so a dictionary keyed by `String`
/// would merge two projects, tools or sessions the API keeps apart. Every key,
/// set member and comparison of text that came from the API goes through
/// this type (or `String.sameBytes`).
public struct ExactText: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let text: String

    public init(_ text: String) { self.text = text }
    public init(stringLiteral text: String) { self.text = text }

    public var description: String { text }

    public static func == (lhs: ExactText, rhs: ExactText) -> Bool { lhs.text.sameBytes(as: rhs.text) }

    /// Byte order, as SQLite sorts text (UTF-8 byte order is code point order).
    public static func < (lhs: ExactText, rhs: ExactText) -> Bool {
        lhs.text.utf8.lexicographicallyPrecedes(rhs.text.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(text.utf8.count)  // so that ("a", "bc") and ("ab", "c") hash apart in a struct
        if let hashed = text.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) {
            return hashed
        }
        var copy = text
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension String {
    /// Whether the two are the same bytes (not merely canonically equivalent).
    public func sameBytes(as other: String) -> Bool { utf8.elementsEqual(other.utf8) }
}

extension Optional<String> {
    /// Both nil, or the same bytes.
    public func sameBytes(as other: String?) -> Bool {
        switch (self, other) {
        case (nil, nil): return true
        case let (left?, right?): return left.sameBytes(as: right)
        default: return false
        }
    }
}
