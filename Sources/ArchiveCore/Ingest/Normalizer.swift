import Foundation
import LlamaCloudClient
import LosslessJSON

public struct NormalizationError: Error, CustomStringConvertible, Equatable, Sendable {
    public let sessionID: String?
    public let reason: String
    /// Text from the input is printed with its control characters replaced.
    public var description: String {
        sessionID.map { "session \(Printable.clean($0, limit: 200)): \(reason)" } ?? reason
    }
}

/// Turns a session as the retrieve endpoint returns it into rows.
public enum Normalizer {
    static let knownSessionKeys: Set<ExactText> = [
        "session_id", "last_updated_at", "generated_title", "index_ids", "shared_access", "job_metadata", "events",
    ]

    /// A session holds at most 2^24 events (see `EventKey`).
    public static let maxEventsPerSession = EventKey.maxEventsPerSession

    static func tooManyEvents(_ sessionID: String?, limit: Int) -> NormalizationError {
        NormalizationError(sessionID: sessionID, reason: "more than \(limit) events: the archive keeps at most \(limit) per session")
    }

    /// A session already parsed into values; its events are kept as values.
    public static func normalize(_ value: JSONValue, sourceHash: SourceHash? = nil,
                                 maxEvents: Int = maxEventsPerSession) throws(NormalizationError) -> NormalizedSession {
        guard case .object(var object) = value else {
            throw NormalizationError(sessionID: nil, reason: "a session must be a JSON object")
        }
        let sessionID = try identity(of: object).sessionID
        var accumulator = EventAccumulator()
        var events: [NormalizedEvent] = []
        // The events are the first `events` member that is an array (as the streaming parse takes them).
        let eventsIndex = object.members.firstIndex { $0.key == "events" && $0.value.arrayValue != nil }
        switch eventsIndex.map({ object.members[$0].value }) ?? object["events"] {
        case .array(let list)?:
            guard list.count <= maxEvents else { throw tooManyEvents(sessionID, limit: maxEvents) }
            events.reserveCapacity(list.count)
            for (seq, raw) in list.enumerated() {
                guard case .object(let fields) = raw else {
                    throw NormalizationError(sessionID: sessionID, reason: "event \(seq) is not a JSON object")
                }
                events.append(accumulator.add(fields))
            }
        case nil, .null?: break
        default: throw NormalizationError(sessionID: sessionID, reason: "events is not an array")
        }
        for (seq, ref) in accumulator.contentRefs { events[seq].contentRef = ref }
        if let eventsIndex { object.members[eventsIndex].value = .array([]) }  // where the events stood
        let sessionEvents = SessionEvents(storage: .values(events), count: accumulator.count, totals: accumulator.totals,
                                          toolCallLinks: accumulator.toolCallLinks, numberFaults: accumulator.numberFaults)
        return try session(object, events: sessionEvents, sourceHash: sourceHash)
    }

    /// A session straight from the bytes of a response: its events are
    /// normalised once as they are parsed (and let go), and read again from
    /// the bytes when the store writes them, so that memory stays near the
    /// size of the response however many events it holds.
    /// With redaction rules, the session is parsed whole, redacted, and
    /// normalised as values: the text the rules match never reaches a row.
    public static func normalize(body: [UInt8], sourceHash: SourceHash? = nil, redactor: Redactor,
                                 maxEvents: Int = maxEventsPerSession) throws -> NormalizedSession {
        guard !redactor.isEmpty else { return try normalize(body: body, sourceHash: sourceHash, maxEvents: maxEvents) }
        return try normalize(redactor.redact(JSONParser.parse(body)).value, sourceHash: sourceHash, maxEvents: maxEvents)
    }

    public static func normalize(body: [UInt8], sourceHash: SourceHash? = nil,
                                 maxEvents: Int = maxEventsPerSession) throws -> NormalizedSession {
        var accumulator = EventAccumulator()
        var failure: NormalizationError?
        let (object, range) = try JSONParser.parseObject(body, streamingArray: "events") { value in
            guard failure == nil else { return }
            guard accumulator.count < maxEvents else {
                failure = tooManyEvents(nil, limit: maxEvents)
                return
            }
            guard case .object(let fields) = value else {
                failure = NormalizationError(sessionID: nil, reason: "event \(accumulator.count) is not a JSON object")
                return
            }
            _ = accumulator.add(fields)
        }
        let sessionID = try identity(of: object).sessionID
        if let failure { throw NormalizationError(sessionID: sessionID, reason: failure.reason) }
        switch object["events"] {
        case nil, .null?: break
        case _? where range == nil: throw NormalizationError(sessionID: sessionID, reason: "events is not an array")
        default: break
        }
        let meta = object
        let elements = JSONArrayElements(bytes: range == nil ? [] : body, range: range ?? 0..<0)
        let sessionEvents = SessionEvents(storage: .response(elements, contentRefs: accumulator.contentRefs.sorted { $0.seq < $1.seq }),
                                          count: accumulator.count, totals: accumulator.totals,
                                          toolCallLinks: accumulator.toolCallLinks, numberFaults: accumulator.numberFaults)
        return try session(meta, events: sessionEvents, sourceHash: sourceHash)
    }

    private static func identity(of object: JSONObject) throws(NormalizationError) -> (sessionID: String, lastUpdatedAt: String) {
        guard let sessionID = object["session_id"]?.stringValue, !sessionID.isEmpty else {
            throw NormalizationError(sessionID: nil, reason: "missing session_id")
        }
        guard let rawUpdated = object["last_updated_at"]?.stringValue else {
            throw NormalizationError(sessionID: sessionID, reason: "missing last_updated_at")
        }
        guard let lastUpdatedAt = Timestamp.normalize(rawUpdated) else {
            throw NormalizationError(sessionID: sessionID, reason: "unreadable last_updated_at \"\(Printable.clean(rawUpdated, limit: 80))\"")
        }
        return (sessionID, lastUpdatedAt)
    }

    /// The session's columns from its members (`events` already taken out).
    private static func session(_ object: JSONObject, events: SessionEvents,
                                sourceHash: SourceHash?) throws(NormalizationError) -> NormalizedSession {
        let (sessionID, lastUpdatedAt) = try identity(of: object)
        var unknown = JSONObject()
        for member in object.members where !knownSessionKeys.contains(ExactText(member.key)) {
            unknown.members.append(member)
        }
        let indexIDs: String?
        switch object["index_ids"] {
        case nil, .null?: indexIDs = nil
        case let other?: indexIDs = other.serialized
        }
        var faults = events.numberFaults
        let job = object["job_metadata"]?.objectValue.map { jobMetadata($0, faults: &faults) }
        return NormalizedSession(
            sessionID: sessionID,
            lastUpdatedAt: lastUpdatedAt,
            title: object["generated_title"]?.stringValue,
            sharedAccess: object["shared_access"]?.stringValue,
            indexIDs: indexIDs,
            job: job,
            unknownFields: unknown.isEmpty ? nil : JSONValue.object(unknown).serialized,
            meta: JSONValue.object(object).serialized,
            events: events,
            sourceHash: sourceHash,
            numberFaults: faults.summary)
    }

    private static func jobMetadata(_ job: JSONObject, faults: inout NumberFaults) -> NormalizedSession.JobMetadata {
        NormalizedSession.JobMetadata(
            durationMs: faults.take(OutsideNumbers.duration(job["duration_ms"]), field: "job_metadata.duration_ms"),
            inputTokens: faults.take(OutsideNumbers.count(job["total_input_tokens"]), field: "job_metadata.total_input_tokens"),
            outputTokens: faults.take(OutsideNumbers.count(job["total_output_tokens"]), field: "job_metadata.total_output_tokens"),
            turns: faults.take(OutsideNumbers.count(job["turns"]), field: "job_metadata.turns"),
            isError: job["is_error"]?.boolValue,
            error: job["error"]?.stringValue)
    }

    static func normalizeEvent(_ fields: JSONObject, seq: Int, userInputsBefore userInputs: inout Int) -> NormalizedEvent {
        var type: String?, content: String?, callID: String?, name: String?
        var rest: [(key: String, value: JSONValue)] = []
        var lastRank = 0, inDefaultOrder = true
        for member in fields.members {
            // A field has a column only when it is a string (and the first of its name).
            var rank = 4
            if case .string(let text) = member.value {
                switch member.key {
                case "type" where type == nil: type = text; rank = 0
                case "content" where content == nil: content = text; rank = 1
                case "call_id" where callID == nil: callID = text; rank = 2
                case "name" where name == nil: name = text; rank = 3
                default: break
                }
            }
            if rank == 4 { rest.append(member) }
            if rank < lastRank { inDefaultOrder = false }
            lastRank = rank
        }
        let kind = type ?? inferKind(callID: callID, otherKeys: Set(rest.map { ExactText($0.key) }))
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
            layout: inDefaultOrder ? nil : layout(of: fields),
            usage: kind == "stop" ? stopUsage(fields, seq: seq) : nil,
            search: searchEntry(kind: kind, content: content, rest: others))
        if kind == "tool_result", let result = fields["result"] { event.errorResult = readsAsError(result) }
        return event
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

    /// The members that go to columns, by their layout letters.
    static let columnLetters: [ExactText: Character] = ["type": "t", "content": "c", "call_id": "i", "name": "n"]

    /// The order of an event's members as layout letters: `t c i n` for the
    /// members that went to columns (by the rule above), `p` for the others.
    static func layout(of fields: JSONObject) -> String {
        var taken: Set<Character> = []
        var letters = ""
        for member in fields.members {
            if case .string = member.value, let letter = columnLetters[ExactText(member.key)], taken.insert(letter).inserted {
                letters.append(letter)
            } else {
                letters.append("p")
            }
        }
        return letters
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
    static func inferKind(callID: String?, otherKeys keys: Set<ExactText>) -> String {
        if callID != nil && keys.contains("arguments") { return "tool_call" }
        if callID != nil && keys.contains("result") { return "tool_result" }
        if keys.contains("usage") || keys.contains("is_error") { return "stop" }
        return "untyped"
    }

    static func stopUsage(_ fields: JSONObject, seq: Int) -> StopUsage {
        let usage = fields["usage"]?.objectValue ?? JSONObject()
        var faults = NumberFaults()
        return StopUsage(
            inputTokens: faults.take(OutsideNumbers.count(usage["total_input_tokens"]), field: "event \(seq): usage.total_input_tokens"),
            outputTokens: faults.take(OutsideNumbers.count(usage["total_output_tokens"]), field: "event \(seq): usage.total_output_tokens"),
            durationMs: faults.take(OutsideNumbers.duration(usage["duration_ms"]), field: "event \(seq): usage.duration_ms"),
            agentTurns: faults.take(OutsideNumbers.count(usage["turns"]), field: "event \(seq): usage.turns"),
            isError: fields["is_error"]?.boolValue ?? false,
            error: fields["error"]?.stringValue,
            numberFaults: faults)
    }
}
