import LosslessJSON

/// Realistic chat sessions in the retrieve endpoint's shape: multi-turn runs
/// with thinking and text deltas, tool calls with nested arguments and results
/// of every JSON type, image attachments, error runs with null tokens, unicode
/// and NUL in text, unknown event types, untyped events and calls with no result.
public struct SessionGenerator: Sendable {
    private var random: SeededRandom
    private var sessionCounter = 0

    public init(seed: UInt64) { random = SeededRandom(seed: seed) }

    static let functionWords = ["the", "of", "and", "a", "to", "in", "for", "with", "on", "is", "was", "which", "what",
                                "how", "does", "say", "about", "this", "that", "by"]
    static let domainWords = [
        "renewal", "clause", "contract", "revenue", "quarter", "Q3", "forecast", "margin", "customer", "churn",
        "pipeline", "invoice", "liability", "termination", "notice", "period", "pricing", "discount", "region", "EMEA",
        "growth", "report", "summary", "findings", "index", "document", "page", "table", "policy", "compliance",
        "café", "naïve", "résumé", "日本語", "données", "Straße", "🚀", "👩‍💻", "🏳️‍🌈", "∑",
    ]
    /// A vocabulary shaped like text: a few very common words, domain words in
    /// the middle ranks, and a long tail of rare ones, drawn by Zipf's law.
    static let words: [String] = {
        let syllables = ["ka", "lo", "mi", "ren", "tor", "va", "sel", "qui", "dra", "ne", "po", "lis", "ham", "ber", "gu", "tes"]
        var tail: [String] = []
        for a in syllables { for b in syllables { for c in ["", "n", "r", "s", "t", "x"] { tail.append(a + b + c) } } }
        var vocabulary = functionWords
        for (index, word) in tail.enumerated() {
            vocabulary.append(word)
            if index % 12 == 5, (index / 12) < domainWords.count { vocabulary.append(domainWords[index / 12]) }
        }
        return vocabulary
    }()
    static let cumulativeWeights: [Double] = {
        var total = 0.0
        return words.indices.map { rank in total += 1 / Double(rank + 1); return total }
    }()
    static let tools = ["search_index", "read_page", "lookup_table", "summarize", "calculator"]

    public mutating func nextSessionID() -> String {
        sessionCounter += 1
        let suffix = String(random.next() & 0xFFFF_FFFF_FFFF, radix: 16)
        return "ses-\(sessionCounter)-\(suffix)"
    }

    mutating func word() -> String {
        let weights = Self.cumulativeWeights
        let target = Double.random(in: 0..<weights[weights.count - 1], using: &random)
        var low = 0, high = weights.count - 1
        while low < high {
            let middle = (low + high) / 2
            if weights[middle] <= target { low = middle + 1 } else { high = middle }
        }
        return Self.words[low]
    }

    mutating func sentence(_ count: ClosedRange<Int>) -> String {
        let length = Int.random(in: count, using: &random)
        var text = (0..<length).map { _ in word() }.joined(separator: " ")
        if random.chance(0.02) { text += " \u{0}nul" }
        if random.chance(0.05) { text += "\n\n- \"quoted\" \\ backslash\ttab" }
        return text.prefix(1).uppercased() + text.dropFirst() + "."
    }

    /// A whole session with `runs` runs, last updated at `updatedAt` (any format the API uses).
    public mutating func session(id: String, updatedAt: String, runs: Int? = nil) -> JSONValue {
        // Some sessions are created and never run.
        let runCount = runs ?? (random.chance(0.03) ? 0 : Int.random(in: 1...4, using: &random))
        var events: [JSONValue] = []
        for _ in 0..<runCount { events += run() }
        return envelope(id: id, updatedAt: updatedAt, events: events)
    }

    public mutating func envelope(id: String, updatedAt: String, events: [JSONValue]) -> JSONValue {
        var session = JSONObject()
        session["session_id"] = .string(id)
        session["last_updated_at"] = .string(updatedAt)
        session["generated_title"] = random.chance(0.08) ? .null : .string(String(sentence(3...8).prefix(60)) + "...")
        session["index_ids"] = random.chance(0.2) ? .null : .array((0..<Int.random(in: 1...2, using: &random)).map { _ in
            .string("idx-\(random.pick(["contracts", "finance", "hr", "legal"]))")
        })
        session["shared_access"] = .string(random.pick(["read_only", "query"]))
        let lastStop = events.last { $0["usage"] != nil }
        if let lastStop, let usage = lastStop["usage"] {
            session["job_metadata"] = [
                "duration_ms": usage["duration_ms"] ?? .null,
                "error": lastStop["error"] ?? .null,
                "export_config_ids": random.chance(0.2) ? .array([.string("exp-" + random.pick(["csv", "sheets", "s3"]))]) : .null,
                "is_error": lastStop["is_error"] ?? false,
                "total_input_tokens": usage["total_input_tokens"] ?? .null,
                "total_output_tokens": usage["total_output_tokens"] ?? .null,
                "turns": usage["turns"] ?? 1,
            ]
        } else {
            session["job_metadata"] = .null
        }
        session["events"] = .array(events)
        return .object(session)
    }

    /// One run: a question, thinking, tool calls, an answer and a stop, in
    /// the shapes the API sends: members in either order, one or two
    /// thinking and text blocks, blocks with and without deltas (and deltas
    /// that do not join up to their block), untyped content events, results
    /// without `image_attachment`, usage with fields missing, and error runs
    /// with and without tokens.
    public mutating func run() -> [JSONValue] {
        var events: [JSONValue] = []
        events.append(contentEvent("user_input", sentence(8...30)))
        for _ in 0..<(random.chance(0.15) ? 2 : 1) { events += streamedBlock("thinking", sentence(12...48)) }
        let isError = random.chance(0.06)
        for callIndex in 0..<Int.random(in: 0...3, using: &random) {
            let callID = "call_\(String(random.next() & 0xFFFF_FFFF, radix: 16))_\(callIndex)"
            let tool = random.pick(Self.tools)
            let untyped = random.chance(0.03)
            var call: JSONObject = ["call_id": .string(callID), "name": .string(tool), "arguments": arguments()]
            if !untyped { call.members.insert(("type", "tool_call"), at: 0) }
            events.append(.object(call))
            if random.chance(0.05) { continue }  // a call that never got its result
            var result: JSONObject = ["call_id": .string(callID), "name": .string(tool), "result": resultValue()]
            if !untyped { result.members.insert(("type", "tool_result"), at: 0) }
            if random.chance(0.15) {
                result["image_attachment"] = ["attachment_name": .string("page-\(Int.random(in: 1...300, using: &random)).png"),
                                              "source_id": .string("src-\(String(random.next() & 0xFFFFFF, radix: 16))")]
            } else if random.chance(0.6) {
                result["image_attachment"] = .null
            }
            events.append(.object(result))
        }
        if random.chance(0.04) {
            events.append(["type": "citation", "source_id": "src-1", "content": .string(sentence(3...6)), "score": 0.87])
        }
        if random.chance(0.03) { events.append(["content": .string(sentence(3...10))]) }  // untyped content
        if !isError {
            for _ in 0..<(random.chance(0.1) ? 2 : 1) { events += streamedBlock("text", sentence(24...96)) }
        }
        let input = Int64.random(in: 200...9000, using: &random)
        let output = Int64.random(in: 20...1500, using: &random)
        let reportsTokens = !isError || random.chance(0.5)
        var usage: JSONObject = [
            "duration_ms": .number(JSONNumber(Double(Int.random(in: 300...20000, using: &random)))),
            "total_input_tokens": reportsTokens ? .number(JSONNumber(input)) : .null,
            "total_output_tokens": reportsTokens ? .number(JSONNumber(output)) : .null,
            "turns": .number(JSONNumber(Int64.random(in: 1...4, using: &random))),
        ]
        if random.chance(0.05) { usage[random.pick(["duration_ms", "turns", "total_output_tokens"])] = nil }
        if random.chance(0.02) { usage["cache_read_tokens"] = .number(JSONNumber(Int64(9_007_199_254_740_993))) }
        var stop: JSONObject = [
            "type": "stop",
            "error": isError ? .string(random.pick(["rate limited by model provider", "context window exceeded", "tool timeout"])) : .null,
            "is_error": .bool(isError),
            "usage": .object(usage),
        ]
        if random.chance(0.3) { stop["skipped_index_ids"] = random.chance(0.5) ? .array([]) : ["idx-hr"] }
        events.append(.object(stop))
        return events
    }

    /// `{"type": kind, "content": text}`, now and then with `content` first (as in the API's own example).
    private mutating func contentEvent(_ kind: String, _ text: String) -> JSONValue {
        random.chance(0.3) ? ["content": .string(text), "type": .string(kind)] : ["type": .string(kind), "content": .string(text)]
    }

    /// A block, usually after the deltas that stream it.
    private mutating func streamedBlock(_ kind: String, _ text: String) -> [JSONValue] {
        var events: [JSONValue] = []
        if !random.chance(0.1) {
            var pieces = chunks(of: text)
            if random.chance(0.05) { pieces.removeLast() }  // deltas that do not join up to their block
            for piece in pieces { events.append(contentEvent(kind + "_delta", piece)) }
        }
        events.append(contentEvent(kind, text))
        return events
    }

    private mutating func chunks(of text: String) -> [String] {
        let characters = Array(text)
        var pieces: [String] = []
        var start = 0
        while start < characters.count {
            let length = Int.random(in: 24...120, using: &random)
            let end = min(characters.count, start + length)
            pieces.append(String(characters[start..<end]))
            start = end
        }
        return pieces
    }

    private mutating func arguments() -> JSONValue {
        [
            "query": .string(sentence(2...8)),
            "top_k": .number(JSONNumber(Int64.random(in: 1...20, using: &random))),
            "filters": [
                "year": [.number(JSONNumber(Int64.random(in: 2019...2026, using: &random)))],
                "exact": .bool(random.chance(0.5)),
                "region": random.chance(0.5) ? .null : .string(random.pick(["EMEA", "APAC", "NA"])),
                "threshold": .number(JSONNumber(Double(Int.random(in: 1...99, using: &random)) / 100)),
            ],
        ]
    }

    private mutating func resultValue() -> JSONValue {
        if random.chance(0.04) {
            return ["error": .string(random.pick(["timeout after 30 s", "index not found", "permission denied"])), "code": 504]
        }
        switch Int.random(in: 0..<8, using: &random) {
        case 0: return .string(sentence(5...30))
        case 1: return .number(JSONNumber(Int64.random(in: -1000...100_000, using: &random)))
        case 2: return .bool(random.chance(0.5))
        case 3: return .null
        case 4: return .number(JSONNumber(literal: "3.14159265358979323846"))
        default:
            return .array((0..<Int.random(in: 1...4, using: &random)).map { _ in
                [
                    "text": .string(sentence(18...72)),
                    "score": .number(JSONNumber(Double(Int.random(in: 1...999, using: &random)) / 1000)),
                    "metadata": ["page": .number(JSONNumber(Int64.random(in: 1...300, using: &random))),
                                 "file": .string("report-\(Int.random(in: 1...50, using: &random)).pdf"),
                                 "tags": ["a", "b"]],
                ]
            })
        }
    }
}
