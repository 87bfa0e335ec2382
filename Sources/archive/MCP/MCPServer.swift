import ArchiveCore
import Foundation
import LosslessJSON

/// The Model Context Protocol over standard input and output: JSON-RPC 2.0,
/// one message a line (the stdio transport of revisions 2024-11-05 to 2025-11-25). One
/// request at a time, answered in order; anything malformed is answered
/// with a protocol error and the server goes on. Nothing but protocol
/// messages is written to standard output.
final class MCPServer {
    /// The revisions this server speaks, newest first: a client asking for
    /// one of them gets it, any other client the newest.
    static let protocolVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    /// A line longer than this is refused unread (a request is a few hundred bytes).
    static let maxLineBytes = 1 << 20

    private let tools: MCPTools
    private let output: FileHandle

    init(tools: MCPTools, output: FileHandle = .standardOutput) {
        self.tools = tools
        self.output = output
    }

    /// Serves until standard input ends. Each byte is looked at once: a line
    /// is gathered until its newline, and one past the limit is dropped as it
    /// comes (answered with one error), so a huge line costs no more than its reading.
    func serve(input: FileHandle = .standardInput) {
        var line: [UInt8] = []
        var discarding = false
        while true {
            let chunk = [UInt8](input.availableData)
            if chunk.isEmpty { break }
            var start = 0
            while start < chunk.count {
                let newline = chunk[start...].firstIndex(of: 0x0A)
                let piece = chunk[start..<(newline ?? chunk.count)]
                if !discarding {
                    line.append(contentsOf: piece)
                    if line.count > Self.maxLineBytes {
                        send(Self.error(id: .null, code: -32700, "a message longer than \(Self.maxLineBytes) bytes"))
                        line.removeAll()
                        discarding = true
                    }
                }
                guard let newline else { break }
                if !discarding { handle(line) }
                line.removeAll(keepingCapacity: true)
                discarding = false
                start = newline + 1
            }
        }
        if !line.isEmpty && !discarding { handle(line) }
    }

    /// One line: a request (answered), a notification (not), or something else (a protocol error).
    func handle(_ line: [UInt8]) {
        let trimmed = line.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        guard !trimmed.isEmpty else { return }
        let message: JSONValue
        do { message = try JSONParser.parse(Array(trimmed)) } catch {
            return send(Self.error(id: .null, code: -32700, "not JSON: \(error)"))
        }
        guard let object = message.objectValue else {
            return send(Self.error(id: .null, code: -32600, "expected one JSON-RPC request object (batches are not part of this revision)"))
        }
        let id = object["id"]
        guard object["jsonrpc"]?.stringValue == "2.0", let method = object["method"]?.stringValue else {
            return send(Self.error(id: id ?? .null, code: -32600, "expected {\"jsonrpc\": \"2.0\", \"method\": …}"))
        }
        if let id, !Self.isValidID(id) {
            return send(Self.error(id: .null, code: -32600, "an id must be a string or a number"))
        }
        let params = object["params"] ?? .object(JSONObject())
        guard let id else { return }  // a notification (`notifications/initialized`, …): nothing to answer
        let answer: Result<JSONValue, MCPError>
        switch method {
        case "initialize": answer = .success(initialize(params))
        case "ping": answer = .success(.object(JSONObject()))
        case "tools/list": answer = .success(["tools": .array(tools.definitions)])
        case "tools/call": answer = tools.call(params)
        default: answer = .failure(MCPError(code: -32601, message: "no method \(method.debugDescription)"))
        }
        switch answer {
        case .success(let result): send(["jsonrpc": "2.0", "id": id, "result": result])
        case .failure(let error): send(Self.error(id: id, code: error.code, error.message))
        }
    }

    private func initialize(_ params: JSONValue) -> JSONValue {
        let asked = params["protocolVersion"]?.stringValue
        let version = asked.flatMap { Self.protocolVersions.contains($0) ? $0 : nil } ?? Self.protocolVersions[0]
        return [
            "protocolVersion": .string(version),
            "capabilities": ["tools": ["listChanged": false]],
            "serverInfo": ["name": "llamacloud-archive", "title": "LlamaCloud chat archive", "version": .string(ArchiveVersion.current)],
            "instructions": .string(MCPTools.instructions),
        ]
    }

    static func isValidID(_ id: JSONValue) -> Bool {
        switch id {
        case .string, .number: true
        default: false
        }
    }

    static func error(id: JSONValue, code: Int, _ message: String) -> JSONValue {
        ["jsonrpc": "2.0", "id": id, "error": ["code": .number(JSONNumber(code)), "message": .string(message)]]
    }

    private func send(_ message: JSONValue) {
        output.write(Data((message.serialized + "\n").utf8))
    }
}

/// A JSON-RPC error: `-32602` for a call the tool cannot take as asked.
struct MCPError: Error {
    let code: Int
    let message: String

    static func invalidParams(_ message: String) -> MCPError { MCPError(code: -32602, message: message) }
}
