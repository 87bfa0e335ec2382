import LosslessJSON
import SQLiteCore

/// A session as the store writes it: columns for what the schema knows, and
/// JSON for everything else, so that nothing the API sent is lost.
public struct NormalizedSession: Sendable {
    public let sessionID: String
    public let lastUpdatedAt: String
    public let title: String?
    public let sharedAccess: String?
    public let indexIDs: String?
    public let job: JobMetadata?
    public let unknownFields: String?
    public let meta: String
    public let events: SessionEvents
    /// `SourceHash` of the JSON bytes this came from, when the caller had them.
    public var sourceHash: SourceHash?
    /// The tokens of each indexed event's search text, in event order, when
    /// made ahead of the writer (`withSearchTokens`); else the writer's
    /// connection tokenizes as it indexes.
    public var searchTokens: SearchTokens?
    /// What its numbers held that the archive keeps only as sent (`OutsideNumbers`), or nil.
    public var numberFaults: String? = nil

    public struct JobMetadata: Sendable, Equatable {
        public let durationMs: Double?
        public let inputTokens: Int64?
        public let outputTokens: Int64?
        public let turns: Int64?
        public let isError: Bool?
        public let error: String?
    }
}

/// One event: the four string fields the schema has columns for, and the rest as a JSON object.
public struct NormalizedEvent: Sendable, Equatable {
    public let seq: Int
    public let turn: Int
    public let type: String?
    public let kind: String
    public let content: String?
    public let callID: String?
    public let name: String?
    public let payload: String?
    /// The order its members came in, when it is not the default (columns
    /// type, content, call_id, name first, then the payload's members): one
    /// letter a member, `t c i n` for the columns and `p` for the next payload member.
    public let layout: String?
    public let usage: StopUsage?
    /// Whether and with what text the event goes into the search index.
    public let search: SearchEntry
    /// For a delta whose text is a slice of a later block of the same kind:
    /// `(block seq << 40) | (byte offset << 20) | byte length`, stored instead of the text.
    public var contentRef: Int64?
    /// For a tool_result: its result reads as an error (an object with a
    /// non-null `error` or a true `is_error`, or a string starting with "error").
    public var errorResult = false

    /// True when the stored columns are the same (what decides "history extended").
    func sameStoredFields(type: String?, content: String?, callID: String?, name: String?, payload: String?) -> Bool {
        self.type.sameBytes(as: type) && self.content.sameBytes(as: content) && self.callID.sameBytes(as: callID)
            && self.name.sameBytes(as: name) && self.payload.sameBytes(as: payload)
    }
}

public enum SearchEntry: Sendable, Equatable {
    case notIndexed
    /// Indexed with this text; nil indexes an empty document (the event is searchable but says nothing).
    case indexed(String?)
}

public struct StopUsage: Sendable, Equatable {
    public let inputTokens: Int64?
    public let outputTokens: Int64?
    public let durationMs: Double?
    public let agentTurns: Int64?
    public let isError: Bool
    public let error: String?
    /// Its numbers that are kept only as sent.
    public var numberFaults = NumberFaults()
}
