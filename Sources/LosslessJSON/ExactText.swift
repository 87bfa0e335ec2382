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
        lhs.text.withBytes { left in rhs.text.withBytes { right in left.lexicographicallyPrecedes(right) } }
    }

    public func hash(into hasher: inout Hasher) {
        text.withBytes { bytes in
            hasher.combine(bytes.count)  // so that ("a", "bc") and ("ab", "c") hash apart in a struct
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
    }
}

extension String {
    /// Whether the two are the same bytes (not merely canonically equivalent).
    public func sameBytes(as other: String) -> Bool {
        utf8.count == other.utf8.count && withBytes { left in other.withBytes { right in left.elementsEqual(right) } }
    }

    /// The UTF-8 bytes as one buffer: a native string's own storage, a small
    /// or bridged one's copy (`withUTF8` needs a `var`).
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8(body)
    }
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
