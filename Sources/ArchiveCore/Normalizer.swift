import Foundation
import LosslessJSON

public struct NormalizationError: Error, CustomStringConvertible, Equatable, Sendable {
    public let sessionID: String?
    public let reason: String
    public var description: String {
        sessionID.map { "session \($0): \(reason)" } ?? reason
    }
}

/// Turns a session as the retrieve endpoint returns it into rows.
public enum Normalizer {
    static let knownSessionKeys: Set<String> = [
        "session_id", "last_updated_at", "generated_title", "index_ids", "shared_access", "job_metadata", "events",
    ]

    public static func normalize(_ value: JSONValue, sourceHash: Int64? = nil) throws(NormalizationError) -> NormalizedSession {
        guard case .object(let object) = value else {
            throw NormalizationError(sessionID: nil, reason: "a session must be a JSON object")
        }
        guard let sessionID = object["session_id"]?.stringValue, !sessionID.isEmpty else {
            throw NormalizationError(sessionID: nil, reason: "missing session_id")
        }
        guard let rawUpdated = object["last_updated_at"]?.stringValue else {
            throw NormalizationError(sessionID: sessionID, reason: "missing last_updated_at")
        }
        guard let lastUpdatedAt = Timestamp.normalize(rawUpdated) else {
            throw NormalizationError(sessionID: sessionID, reason: "unreadable last_updated_at \"\(rawUpdated)\"")
        }
        let rawEvents: [JSONValue]
        switch object["events"] {
        case .array(let list)?: rawEvents = list
        case nil, .null?: rawEvents = []
        default: throw NormalizationError(sessionID: sessionID, reason: "events is not an array")
        }

        var events: [NormalizedEvent] = []
        events.reserveCapacity(rawEvents.count)
        var userInputs = 0
        for (seq, raw) in rawEvents.enumerated() {
            guard case .object(let fields) = raw else {
                throw NormalizationError(sessionID: sessionID, reason: "event \(seq) is not a JSON object")
            }
            let event = normalizeEvent(fields, seq: seq, userInputsBefore: &userInputs)
            events.append(event)
        }

        linkDeltasToBlocks(&events)

        var meta = object
        meta["events"] = nil
        var unknown = JSONObject()
        for member in object.members where !knownSessionKeys.contains(member.key) {
            unknown.members.append(member)
        }
        let indexIDs: String?
        switch object["index_ids"] {
        case nil, .null?: indexIDs = nil
        case let other?: indexIDs = other.serialized
        }
        return NormalizedSession(
            sessionID: sessionID,
            lastUpdatedAt: lastUpdatedAt,
            title: object["generated_title"]?.stringValue,
            sharedAccess: object["shared_access"]?.stringValue,
            indexIDs: indexIDs,
            job: object["job_metadata"]?.objectValue.map(jobMetadata),
            unknownFields: unknown.isEmpty ? nil : JSONValue.object(unknown).serialized,
            meta: JSONValue.object(meta).serialized,
            events: events,
            sourceHash: sourceHash)
    }

    private static func jobMetadata(_ job: JSONObject) -> NormalizedSession.JobMetadata {
        NormalizedSession.JobMetadata(
            durationMs: job["duration_ms"]?.doubleValue,
            inputTokens: job["total_input_tokens"]?.int64Value,
            outputTokens: job["total_output_tokens"]?.int64Value,
            turns: job["turns"]?.int64Value,
            isError: job["is_error"]?.boolValue,
            error: job["error"]?.stringValue)
    }

    static func normalizeEvent(_ fields: JSONObject, seq: Int, userInputsBefore userInputs: inout Int) -> NormalizedEvent {
        var type: String?, content: String?, callID: String?, name: String?
        var rest: [(key: String, value: JSONValue)] = []
        for member in fields.members {
            // A field has a column only when it is a string (and the first of its name).
            if case .string(let text) = member.value {
                switch member.key {
                case "type" where type == nil: type = text; continue
                case "content" where content == nil: content = text; continue
                case "call_id" where callID == nil: callID = text; continue
                case "name" where name == nil: name = text; continue
                default: break
                }
            }
            rest.append(member)
        }
        let kind = type ?? inferKind(callID: callID, otherKeys: Set(rest.map(\.key)))
        if kind == "user_input" { userInputs += 1 }
        let others = JSONObject(rest)
        var event = NormalizedEvent(
            seq: seq,
            turn: max(0, userInputs - 1),
            type: type,
            kind: kind,
            content: content,
            callID: callID,
            name: name,
            payload: rest.isEmpty ? nil : JSONValue.object(others).serialized,
            usage: kind == "stop" ? stopUsage(fields) : nil,
            search: searchEntry(kind: kind, content: content, rest: others))
        if kind == "tool_result", let result = fields["result"] { event.errorResult = readsAsError(result) }
        return event
    }

    /// Streamed deltas repeat the block that completes them: when the deltas
    /// since the last block (or run start) join up to exactly the next block's
    /// text, each delta is stored as a slice of that block.
    static func linkDeltasToBlocks(_ events: inout [NormalizedEvent]) {
        var pending: [String: [Int]] = [:]  // delta kind -> indexes since its last block
        for index in events.indices {
            let event = events[index]
            switch event.kind {
            case "user_input":
                pending.removeAll()
            case "text_delta", "thinking_delta":
                if event.content != nil { pending[event.kind, default: []].append(index) }
            case "text", "thinking":
                let deltaKind = event.kind + "_delta"
                defer { pending[deltaKind] = nil }
                guard let block = event.content, let deltas = pending[deltaKind], !deltas.isEmpty,
                      event.seq < 1 << 23 else { continue }
                var blockText = block
                var offset = 0
                var refs: [(Int, Int64)] = []
                let blockLength = blockText.withUTF8 { blockBytes in
                    for deltaIndex in deltas {
                        var piece = events[deltaIndex].content!
                        let matches = piece.withUTF8 { pieceBytes in
                            offset + pieceBytes.count <= blockBytes.count && pieceBytes.count < 1 << 20 && offset < 1 << 20
                                && (pieceBytes.isEmpty || memcmp(blockBytes.baseAddress! + offset, pieceBytes.baseAddress!, pieceBytes.count) == 0)
                        }
                        guard matches else { refs = []; break }
                        let length = piece.utf8.count
                        refs.append((deltaIndex, Int64(event.seq) << 40 | Int64(offset) << 20 | Int64(length)))
                        offset += length
                    }
                    return blockBytes.count
                }
                guard offset == blockLength, !refs.isEmpty else { continue }
                for (deltaIndex, ref) in refs { events[deltaIndex].contentRef = ref }
            default:
                break
            }
        }
    }

    /// What the search index holds for an event. The index keeps no copy of
    /// it: deleting the entry computes it again from the stored row, and the
    /// view `search_source` computes the same (a test holds the three together).
    static func searchEntry(kind: String, content: String?, rest: JSONObject) -> SearchEntry {
        switch kind {
        case "user_input", "text", "thinking": return .indexed(content)
        case "tool_call": return .indexed(rest["arguments"].flatMap(searchableLeaves))
        case "tool_result": return .indexed(rest["result"].flatMap(searchableLeaves))
        default: return .notIndexed
        }
    }

    /// A tool's JSON as search text: its string leaves and its integer leaves
    /// (those within 64 bits) in document order, space-separated; nil when it
    /// has none. Other numbers are left out because SQLite's JSON functions,
    /// which the view uses, render them differently from their literal.
    static func searchableLeaves(_ value: JSONValue) -> String? {
        var text = ""
        var any = false
        func append(_ leaf: String) {
            if any { text += " " }
            text += leaf
            any = true
        }
        func visit(_ value: JSONValue) {
            switch value {
            case .string(let leaf): append(leaf)
            case .number(let number): if let integer = Int64(number.literal) { append(String(integer)) }
            case .array(let elements): elements.forEach(visit)
            case .object(let object): object.members.forEach { visit($0.value) }
            case .null, .bool: break
            }
        }
        visit(value)
        return any ? text : nil
    }

    static func readsAsError(_ result: JSONValue) -> Bool {
        switch result {
        case .object(let object):
            if let error = object["error"], error != .null { return true }
            return object["is_error"] == .bool(true)
        case .string(let text):
            return text.lowercased().hasPrefix("error")
        default:
            return false
        }
    }

    /// Events may come without `type`: recognise the shapes that have fields of
    /// their own. The view `events` computes `kind` by the same rule.
    static func inferKind(callID: String?, otherKeys keys: Set<String>) -> String {
        if callID != nil && keys.contains("arguments") { return "tool_call" }
        if callID != nil && keys.contains("result") { return "tool_result" }
        if keys.contains("usage") || keys.contains("is_error") { return "stop" }
        return "untyped"
    }

    static func stopUsage(_ fields: JSONObject) -> StopUsage {
        let usage = fields["usage"]?.objectValue ?? JSONObject()
        return StopUsage(
            inputTokens: usage["total_input_tokens"]?.int64Value,
            outputTokens: usage["total_output_tokens"]?.int64Value,
            durationMs: usage["duration_ms"]?.doubleValue,
            agentTurns: usage["turns"]?.int64Value,
            isError: fields["is_error"]?.boolValue ?? false,
            error: fields["error"]?.stringValue)
    }
}
