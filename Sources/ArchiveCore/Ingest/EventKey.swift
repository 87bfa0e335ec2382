/// The key of an event row, `(session_key << 24) | seq`: a session's history
/// is one key range and needs no second index. Usage rows (`run_key`) and
/// tool call rows (`call_key`) are keyed the same way, by their event's key.
/// The one place that knows the layout, in Swift and in SQL.
public struct EventKey: Hashable, Sendable {
    static let seqBits: Int64 = 24
    static let seqMask: Int64 = (1 << seqBits) - 1
    /// Sequence numbers run from 0 to 2^24 - 1.
    public static let maxEventsPerSession = 1 << Int(seqBits)

    public let rawValue: Int64

    public init(session: Int64, seq: Int) { rawValue = session << Self.seqBits | Int64(seq) }
    public init(rawValue: Int64) { self.rawValue = rawValue }

    public var session: Int64 { rawValue >> Self.seqBits }
    public var seq: Int { Int(rawValue & Self.seqMask) }

    /// The first and the last key a session's events can have.
    public static func range(session: Int64) -> (first: Int64, last: Int64) {
        (session << seqBits, session << seqBits | seqMask)
    }

    /// SQL for the session key of a key column, and for the first and last key of a session key.
    public static func sessionSQL(_ key: String) -> String { "(\(key) >> \(seqBits))" }
    public static func seqSQL(_ key: String) -> String { "(\(key) & \(seqMask))" }
    public static func firstSQL(_ session: String) -> String { "(\(session) << \(seqBits))" }
    public static func lastSQL(_ session: String) -> String { "((\(session) << \(seqBits)) | \(seqMask))" }
}

/// Where a streamed delta's text lives when it is a slice of the block that
/// completes it: `(block seq << 40) | (byte offset << 20) | byte length`.
public struct ContentRef: Hashable, Sendable {
    static let maxBlockSeq = 1 << 23
    static let maxOffset = 1 << 20
    static let maxLength = 1 << 20

    public let rawValue: Int64

    /// Nil when the slice does not fit the layout (it keeps its own text then).
    public init?(blockSeq: Int, offset: Int, length: Int) {
        guard blockSeq < Self.maxBlockSeq, offset < Self.maxOffset, length < Self.maxLength else { return nil }
        rawValue = Int64(blockSeq) << 40 | Int64(offset) << 20 | Int64(length)
    }

    public var blockSeq: Int { Int(rawValue >> 40) }
    public static func blockSeqSQL(_ column: String) -> String { "(\(column) >> 40)" }
}
