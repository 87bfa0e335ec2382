import Foundation
import LosslessJSON

/// The state behind the simulated chat API: projects of sessions, the key it
/// accepts, injected faults, latency and request counts. Tests drive it
/// directly; the HTTP server only asks it for answers. A lock guards it, so the
/// server's connection threads never wait on Swift's task pool.
public final class SimulatedChatService: @unchecked Sendable {
    public enum Endpoint: String, Sendable, CaseIterable {
        case list, retrieve, summary, delete, other
    }

    /// A canned answer served instead of the real one, `times` times.
    public struct Fault: Sendable {
        public enum Target: Sendable, Equatable {
            case list
            case retrieve(sessionID: String?)
        }
        public var target: Target
        public var status: Int
        public var headers: [String: String]
        public var body: String
        public var times: Int
        /// Matching requests answered normally before the fault applies.
        public var afterPassing: Int

        public init(_ target: Target, status: Int, headers: [String: String] = [:],
                    body: String = #"{"detail":"injected fault"}"#, times: Int = 1, afterPassing: Int = 0) {
            self.target = target
            self.status = status
            self.headers = headers
            self.body = body
            self.times = times
            self.afterPassing = afterPassing
        }
    }

    public struct Response: Sendable {
        public let status: Int
        public let headers: [String: String]
        public let body: [UInt8]
    }

    public static let defaultProject = "default"

    public let apiKey: String
    private let lock = NSRecursiveLock()
    private var generator: SessionGenerator
    private var random: SeededRandom
    // Ids kept apart by their bytes, as the real service keeps them.
    private var order: [ExactText: [String]] = [:]          // project -> session ids in creation order
    private var sessions: [ExactText: JSONObject] = [:]     // id -> full session
    private var projectOf: [ExactText: ExactText] = [:]
    private var faults: [Fault] = []
    private var counts: [Endpoint: Int] = [:]
    private var clockMicros: Int64 = 1_772_323_200_000_000  // 2026-03-01T00:00:00Z
    /// About 20,000 sessions a year.
    public static let defaultSecondsApart: ClosedRange<Int64> = 60...3_000
    private var secondsApart = defaultSecondsApart
    private var maxPageSize = 1000
    private var timestampStyle = 0
    private var latency = 0
    public var latencyMilliseconds: Int { locked { latency } }

    public init(apiKey: String, seed: UInt64 = 42) {
        self.apiKey = apiKey
        generator = SessionGenerator(seed: seed)
        random = SeededRandom(seed: seed ^ 0xA5A5)
    }

    // MARK: Controls for tests and the demo

    /// Creates `count` generated sessions in `project` (nil: the key's default project).
    @discardableResult
    public func populate(project: String?, count: Int) -> [String] {
        locked { (0..<count).map { _ in createSession(project: project) } }
    }

    @discardableResult
    public func createSession(project: String?, runs: Int? = nil) -> String {
        locked {
            let id = generator.nextSessionID()
            let session = generator.session(id: id, updatedAt: tick(), runs: runs)
            store(session.objectValue!, project: project ?? Self.defaultProject)
            return id
        }
    }

    /// Stores a session exactly as given (its own `session_id`).
    public func put(_ session: JSONValue, project: String?) {
        locked { store(session.objectValue!, project: project ?? Self.defaultProject) }
    }

    /// Adds a run to the history and moves `last_updated_at` on.
    public func appendRun(to sessionID: String) {
        lock.lock()
        defer { lock.unlock() }
        guard var session = sessions[ExactText(sessionID)], case .array(var events)? = session["events"] else { return }
        events += generator.run()
        session["events"] = .array(events)
        session["last_updated_at"] = .string(tick())
        sessions[ExactText(sessionID)] = session
    }

    /// Replaces the history with a different one (not an extension of it).
    public func rewrite(_ sessionID: String) {
        lock.lock()
        defer { lock.unlock() }
        guard var session = sessions[ExactText(sessionID)] else { return }
        session["events"] = .array([["type": "user_input", "content": "rewritten question"]] + generator.run().dropFirst())
        session["last_updated_at"] = .string(tick())
        sessions[ExactText(sessionID)] = session
    }

    public func delete(_ sessionID: String) {
        lock.lock()
        defer { lock.unlock() }
        sessions[ExactText(sessionID)] = nil
        if let project = projectOf.removeValue(forKey: ExactText(sessionID)) {
            order[project]?.removeAll { $0.sameBytes(as: sessionID) }
        }
    }

    /// Writes `count` generated sessions as JSONL (the retrieve endpoint's shape) without serving them.
    public static func writeCorpus(count: Int, seed: UInt64, secondsApart: ClosedRange<Int64> = defaultSecondsApart,
                                   to write: (String) -> Void) {
        let service = SimulatedChatService(apiKey: "", seed: seed)
        service.secondsApart = secondsApart
        for _ in 0..<count {
            let id = service.createSession(project: nil)
            write(JSONValue.object(service.sessions[ExactText(id)]!).serialized)
            service.delete(id)
        }
    }

    public func session(_ id: String) -> JSONValue? { locked { sessions[ExactText(id)].map(JSONValue.object) } }
    public func sessionIDs(project: String?) -> [String] { locked { order[ExactText(project ?? Self.defaultProject)] ?? [] } }

    public func inject(_ fault: Fault) { locked { faults.append(fault) } }
    public func clearFaults() { locked { faults.removeAll() } }
    public func setLatency(milliseconds: Int) { locked { latency = milliseconds } }
    /// The largest list page it accepts (a 422 naming page_size above it); 1000 as the real service.
    public func setMaxPageSize(_ size: Int) { locked { maxPageSize = size } }

    private let gate = NSCondition()
    private var retrievesAllowed: Int?
    private var retrievesPassed = 0

    /// From now on, retrieves beyond the next `count` wait in the server until
    /// `releaseRetrieves()`: a client stopped mid-run at a point a test chooses.
    public func holdRetrieves(after count: Int) {
        gate.lock()
        retrievesAllowed = count
        retrievesPassed = 0
        gate.unlock()
    }

    public func releaseRetrieves() {
        gate.lock()
        retrievesAllowed = nil
        gate.broadcast()
        gate.unlock()
    }

    /// Called by the server before it answers: a held retrieve waits here.
    func passGate(method: String, path: String) {
        guard Self.endpoint(method: method, path: path) == .retrieve else { return }
        gate.lock()
        defer { gate.unlock() }
        while let allowed = retrievesAllowed, retrievesPassed >= allowed { gate.wait() }
        retrievesPassed += 1
    }
    public func requestCount(_ endpoint: Endpoint) -> Int { locked { counts[endpoint] ?? 0 } }
    public func resetCounts() { locked { counts.removeAll() } }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    // MARK: Answering requests

    /// The answer to one HTTP request.
    public func respond(method: String, path: String, query: [String: String], authorization: String?) -> Response {
        lock.lock()
        defer { lock.unlock() }
        let endpoint = Self.endpoint(method: method, path: path)
        counts[endpoint, default: 0] += 1
        guard authorization == "Bearer \(apiKey)" else {
            return json(401, #"{"detail":"Invalid authentication credentials"}"#)
        }
        if let fault = takeFault(for: endpoint, path: path) {
            return Response(status: fault.status, headers: fault.headers.merging(["content-type": "application/json"]) { a, _ in a },
                            body: Array(fault.body.utf8))
        }
        let project = query["project_id"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultProject
        switch endpoint {
        case .list:
            return list(project: project, pageSize: query["page_size"].flatMap(Int.init) ?? 50, token: query["page_token"])
        case .retrieve, .summary:
            let id = Self.sessionID(in: path)
            guard let session = sessions[ExactText(id)], projectOf[ExactText(id)] == ExactText(project) else {
                return json(404, #"{"detail":"Session not found"}"#)
            }
            var body = session
            if endpoint == .summary { body["events"] = nil }
            return json(200, JSONValue.object(body).serialized)
        case .delete:
            return json(405, #"{"detail":"the simulator does not delete"}"#)
        case .other:
            return json(404, #"{"detail":"Not Found"}"#)
        }
    }

    private func list(project: String, pageSize: Int, token: String?) -> Response {
        guard (1...maxPageSize).contains(pageSize) else {
            return json(422, #"{"detail":"page_size must be between 1 and \#(maxPageSize)"}"#)
        }
        let ids = order[ExactText(project)] ?? []
        var start = 0
        if let token, !token.isEmpty {
            guard let offset = Self.offset(ofPageToken: token), offset <= ids.count else {
                return json(422, #"{"detail":"invalid page_token"}"#)
            }
            start = offset
        }
        let end = min(ids.count, start + pageSize)
        var items: [JSONValue] = []
        for id in ids[start..<end] {
            var summary = sessions[ExactText(id)]!
            summary["events"] = nil
            items.append(.object(summary))
        }
        let next: JSONValue = end < ids.count ? .string(Self.pageToken(offset: end)) : .null
        return json(200, JSONValue.object(["items": .array(items), "next_page_token": next]).serialized)
    }

    /// Cursors as real services make them: base64 with `+`, `/` and `=`, which
    /// a client that does not encode query values breaks (a raw `+` arrives as a space).
    static let tokenPrefix: [UInt8] = [0xFB, 0xEF, 0xFF]  // "++//" in base64

    static func pageToken(offset: Int) -> String {
        var payload = tokenPrefix + Array("offset:\(offset)".utf8)
        if payload.count % 3 == 0 { payload.append(UInt8(ascii: ";")) }  // so that it ends in "="
        return Data(payload).base64EncodedString()
    }

    static func offset(ofPageToken token: String) -> Int? {
        guard let bytes = Data(base64Encoded: token).map(Array.init), bytes.starts(with: tokenPrefix) else { return nil }
        let text = String(decoding: bytes.dropFirst(tokenPrefix.count), as: UTF8.self)
        guard text.hasPrefix("offset:") else { return nil }
        return Int(text.dropFirst(7).prefix { $0 != ";" })
    }

    private func takeFault(for endpoint: Endpoint, path: String) -> Fault? {
        let id = Self.sessionID(in: path)
        guard let index = faults.firstIndex(where: { fault in
            switch fault.target {
            case .list: return endpoint == .list
            case .retrieve(let target): return endpoint == .retrieve && (target == nil || target == id)
            }
        }) else { return nil }
        if faults[index].afterPassing > 0 {
            faults[index].afterPassing -= 1
            return nil
        }
        let fault = faults[index]
        faults[index].times -= 1
        if faults[index].times <= 0 { faults.remove(at: index) }
        return fault
    }

    private func json(_ status: Int, _ body: String) -> Response {
        Response(status: status, headers: ["content-type": "application/json"], body: Array(body.utf8))
    }

    private func store(_ session: JSONObject, project: String) {
        let id = session["session_id"]!.stringValue!
        if sessions[ExactText(id)] == nil {
            order[ExactText(project), default: []].append(id)
            projectOf[ExactText(id)] = ExactText(project)
        }
        sessions[ExactText(id)] = session
    }

    static func endpoint(method: String, path: String) -> Endpoint {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 3, parts[0] == "api", parts[1] == "v1", parts[2] == "chat" else { return .other }
        switch (method, parts.count) {
        case ("GET", 3): return .list
        case ("GET", 4): return .retrieve
        case ("GET", 5) where parts[4] == "summary": return .summary
        case ("DELETE", 4): return .delete
        default: return .other
        }
    }

    static func sessionID(in path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 4 else { return "" }
        return String(parts[3]).removingPercentEncoding ?? String(parts[3])
    }

    /// Advances the clock and writes the time in one of the formats the API uses.
    private func tick() -> String {
        // At any microsecond.
        clockMicros += Int64.random(in: secondsApart, using: &random) * 1_000_000 + Int64.random(in: 0..<1_000_000, using: &random)
        timestampStyle = (timestampStyle + 1) % 6
        // naive (UTC), +00:00, Z, no fraction, and local times at other offsets
        let offsetMinutes = [0, 0, 0, 0, 330, -480][timestampStyle]
        var seconds = time_t(clockMicros / 1_000_000 + Int64(offsetMinutes) * 60)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        if timestampStyle != 3 { text += String(format: ".%06d", Int(clockMicros % 1_000_000)) }
        switch timestampStyle {
        case 0: return text
        case 1: return text + "+00:00"
        case 2, 3: return text + "Z"
        default:
            let sign = offsetMinutes < 0 ? "-" : "+"
            return text + sign + String(format: "%02d:%02d", abs(offsetMinutes) / 60, abs(offsetMinutes) % 60)
        }
    }
}
