import LosslessJSON
import SQLiteCore

/// `archive show`: a session's history grouped into runs, deltas coalesced
/// (a final `text` or `thinking` block is preferred over its deltas).
public struct Transcript: Sendable {
    public struct ToolCall: Sendable {
        public let name: String?
        public let arguments: String?
        public let result: String?
        public let imageAttachment: String?
    }

    public struct Run: Sendable {
        public let index: Int
        public var userInput: String?
        public var thinking: String?
        public var answer: String?
        public var toolCalls: [ToolCall] = []
        /// Events of other kinds (unknown types, untyped), as `kind: JSON`.
        public var otherEvents: [String] = []
        public var usage: StopUsage?
    }

    /// The id as typed (`SOURCE:ID` outside the default source).
    public let sessionID: String
    /// The API's id, and the source's name.
    public let apiSessionID: String
    public let source: String
    public let title: String?
    public let projectID: String?
    public let lastUpdatedAt: String
    public let deletedAt: String?
    /// When the session's text was dropped (prune, retention, forget --keep-usage); nil while whole.
    public let contentPrunedAt: String?
    public var runs: [Run]

    static func load(sessionKey: Int64, sessionID: String, from database: Database) throws -> Transcript? {
        guard let header = try database.first(
            """
            SELECT title, project_id, last_updated_at, deleted_at, content_pruned_at, session_id, \(SourceSQL.name("sessions.source_key"))
            FROM sessions WHERE session_key = ?
            """, sessionKey,
            map: { try ($0.optionalString(0), $0.optionalString(1), $0.string(2), $0.optionalString(3), $0.optionalString(4),
                        $0.string(5), $0.optionalString(6) ?? SourceKey.defaultName) })
        else { return nil }

        struct Pieces { var thinkingBlocks: [String] = [], thinkingDeltas = "", textBlocks: [String] = [], textDeltas = "" }
        var runs: [Int: Run] = [:]
        var pieces: [Int: Pieces] = [:]
        try database.forEachRow(
            "SELECT turn, kind, content, call_id, name, payload FROM events WHERE session_key = ? ORDER BY seq", sessionKey
        ) { row in
            let turn = try row.int(0), kind = try row.string(1), content = try row.optionalString(2)
            let payload = try row.optionalString(5).flatMap { try? JSONParser.parse($0) }
            if runs[turn] == nil { runs[turn] = Run(index: turn) }
            switch kind {
            case "user_input":
                runs[turn]!.userInput = [runs[turn]!.userInput, content].compactMap { $0 }.joined(separator: "\n\n")
            case "thinking": pieces[turn, default: Pieces()].thinkingBlocks.append(content ?? "")
            case "thinking_delta": pieces[turn, default: Pieces()].thinkingDeltas += content ?? ""
            case "text": pieces[turn, default: Pieces()].textBlocks.append(content ?? "")
            case "text_delta": pieces[turn, default: Pieces()].textDeltas += content ?? ""
            case "tool_call", "tool_result", "stop":
                break  // calls come paired with their results from `tool_calls`, below; stops from `usage`
            default:
                var text = content.map { JSONValue.string($0).serialized } ?? ""
                if let payload { text += (text.isEmpty ? "" : " ") + payload.serialized }
                runs[turn]!.otherEvents.append("\(kind): \(text)")
            }
        }
        try database.forEachRow(
            "SELECT turn, input_tokens, output_tokens, duration_ms, agent_turns, is_error, error FROM usage WHERE session_key = ? ORDER BY seq",
            sessionKey
        ) { row in
            let turn = try row.int(0)
            if runs[turn] == nil { runs[turn] = Run(index: turn) }
            try runs[turn]!.usage = StopUsage(inputTokens: row.optionalInt64(1), outputTokens: row.optionalInt64(2),
                                          durationMs: row.optionalDouble(3), agentTurns: row.optionalInt64(4),
                                          isError: row.get(5, as: Bool.self), error: row.optionalString(6))
        }
        for (turn, piece) in pieces {
            let thinking = piece.thinkingBlocks.isEmpty ? piece.thinkingDeltas : piece.thinkingBlocks.joined(separator: "\n\n")
            let answer = piece.textBlocks.isEmpty ? piece.textDeltas : piece.textBlocks.joined(separator: "\n\n")
            runs[turn]!.thinking = thinking.isEmpty ? nil : thinking
            runs[turn]!.answer = answer.isEmpty ? nil : answer
        }
        // One pairing rule for the transcript and the view: the view's.
        try database.forEachRow(
            "SELECT turn, name, arguments, result, image_attachment_name FROM tool_calls WHERE session_key = ? ORDER BY call_seq",
            sessionKey
        ) { row in
            let turn = try row.int(0)
            if runs[turn] == nil { runs[turn] = Run(index: turn) }
            try runs[turn]!.toolCalls.append(ToolCall(name: row.optionalString(1), arguments: row.optionalString(2),
                                                  result: row.optionalString(3), imageAttachment: row.optionalString(4)))
        }
        return Transcript(sessionID: sessionID, apiSessionID: header.5, source: header.6, title: header.0, projectID: header.1, lastUpdatedAt: header.2,
                          deletedAt: header.3, contentPrunedAt: header.4, runs: runs.keys.sorted().map { runs[$0]! })
    }
}
