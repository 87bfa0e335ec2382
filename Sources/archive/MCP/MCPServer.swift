import ArchiveCore
import Foundation
import LosslessJSON

/// The Model Context Protocol over standard input and output: JSON-RPC 2.0,
/// one message a line (the stdio transport of revisions 2024-11-05 to
/// 2025-11-25); anything malformed is answered with a protocol error and the
/// server goes on. Nothing but protocol messages is written to standard output.
///
/// Tool calls run one at a time, in the order they came, on a thread of
/// their own (the archive is one read connection), each within its limits
/// (`ReadingLimits`: seconds and rows; memory for the process). `initialize`,
/// `ping`, `tools/list` and `notifications/cancelled` are answered at once
/// by the thread that reads, whatever a call is doing: a cancellation stops
/// the call in flight (it gets no answer, as the protocol asks) or drops a
/// waiting one. When standard input ends, the call in flight is stopped and
/// the process ends within a second (calls still waiting are answered if
/// they can be within it).
final class MCPServer: @unchecked Sendable {
    /// The revisions this server speaks, newest first: a client asking for
    /// one of them gets it, any other client the newest.
    static let protocolVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    /// A line longer than this is refused unread (a request is a few hundred bytes).
    static let maxLineBytes = 1 << 20

    /// Used by the calls' thread only.
    private let tools: MCPTools
    private let output: FileHandle
    private let limits: () -> ReadingLimits
    private let writing = NSLock()
    /// The calls waiting, the one running, and whether input has ended: under `state`.
    private let state = NSCondition()
    private var waiting: [(id: JSONValue, params: JSONValue)] = []
    private var running: (id: JSONValue, limits: ReadingLimits)?
    private var inputEnded = false
    private let callsEnded = DispatchSemaphore(value: 0)

    init(tools: MCPTools, output: FileHandle = .standardOutput, limits: @escaping () -> ReadingLimits) {
        self.tools = tools
        self.output = output
        self.limits = limits
    }

    /// Serves until standard input ends. Each byte is looked at once: a line
    /// is gathered until its newline, and one past the limit is dropped as it
    /// comes (answered with one error), so a huge line costs no more than its reading.
    func serve(input: FileHandle = .standardInput) {
        let calls = Thread { [self] in runCalls() }
        calls.stackSize = 8 << 20
        calls.start()
        var line: [UInt8] = []
        var discarding = false
        while true {
            let chunk = nextBytes(input)
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
        endInput()
    }

    /// The next bytes of the input, or none once it ends or the client is
    /// gone: a broken pipe on the output counts, noticed while waiting (poll
    /// reports POLLERR on a pipe whose reader has closed it) rather than at
    /// the next answer, which a call still running may never write.
    private func nextBytes(_ input: FileHandle) -> [UInt8] {
        var watched = [pollfd(fd: input.fileDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: output.fileDescriptor, events: 0, revents: 0)]
        while true {
            let ready = poll(&watched, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 || watched[1].revents & Int16(POLLERR | POLLHUP) != 0 { return [] }
            if watched[0].revents != 0 { break }
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input.fileDescriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            return count > 0 ? Array(buffer[..<count]) : []
        }
    }

    /// The client is gone (or has said all it will): the calls that wait are
    /// answered if they can be within the second, else dropped, and the one
    /// running is stopped; the process ends within the second either way.
    private func endInput() {
        state.lock()
        inputEnded = true
        state.broadcast()
        state.unlock()
        guard callsEnded.wait(timeout: .now() + 0.8) == .timedOut else { return }
        state.lock()
        waiting.removeAll()
        running?.limits.stop()
        state.unlock()
        if callsEnded.wait(timeout: .now() + 0.15) == .timedOut { _exit(0) }
    }

    /// The calls' thread: one call at a time, within its limits.
    private func runCalls() {
        while true {
            state.lock()
            while waiting.isEmpty && !inputEnded { state.wait() }
            guard !waiting.isEmpty else {
                state.unlock()
                callsEnded.signal()
                return
            }
            let call = waiting.removeFirst()
            let callLimits = limits()
            running = (call.id, callLimits)
            state.unlock()
            let answer = tools.call(call.params, within: callLimits)
            state.lock()
            running = nil
            let cancelled = callLimits.reached == .stopped
            state.unlock()
            if !cancelled { reply(call.id, answer) }
        }
    }

    /// `notifications/cancelled`: the call it names stops (running) or is dropped (waiting).
    private func cancel(_ params: JSONValue) {
        guard let id = params["requestId"] else { return }
        state.lock()
        if let running, running.id.serialized == id.serialized { running.limits.stop() }
        waiting.removeAll { $0.id.serialized == id.serialized }
        state.unlock()
    }

    private func reply(_ id: JSONValue, _ answer: Result<JSONValue, MCPError>) {
        switch answer {
        case .success(let result): send(["jsonrpc": "2.0", "id": id, "result": result])
        case .failure(let error): send(Self.error(id: id, code: error.code, error.message))
        }
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
        guard let id else {  // a notification (`notifications/initialized`, …): nothing to answer
            if method == "notifications/cancelled" { cancel(params) }
            return
        }
        switch method {
        case "initialize": reply(id, .success(initialize(params)))
        case "ping": reply(id, .success(.object(JSONObject())))
        case "tools/list": reply(id, .success(["tools": .array(tools.definitions)]))
        case "tools/call":
            state.lock()
            waiting.append((id, params))
            state.signal()
            state.unlock()
        default: reply(id, .failure(MCPError(code: -32601, message: "no method \(method.debugDescription)")))
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

    /// One message a line, whole: the two threads never interleave. An output
    /// no one reads any more ends the process (the client is gone).
    private func send(_ message: JSONValue) {
        writing.lock()
        defer { writing.unlock() }
        let bytes = Array((message.serialized + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(output.fileDescriptor, $0.baseAddress, $0.count) }
            if count > 0 { written += count } else if count < 0 && errno == EINTR { continue } else { _exit(0) }
        }
    }
}

/// A JSON-RPC error: `-32602` for a call the tool cannot take as asked.
struct MCPError: Error {
    let code: Int
    let message: String

    static func invalidParams(_ message: String) -> MCPError { MCPError(code: -32602, message: message) }
}
