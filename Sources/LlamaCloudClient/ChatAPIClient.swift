import Foundation
import LosslessJSON

/// One item of a list page: the session without its events.
public struct SessionSummary: Sendable {
    public let sessionID: String
    public let lastUpdatedAt: String
}

public struct SessionPage: Sendable {
    public let items: [SessionSummary]
    public let nextPageToken: String?
}

/// The body of a successful retrieve, with the status it came with (a 204 has none).
public struct RetrievedBody: Sendable {
    public let status: Int
    public let bytes: [UInt8]
}

/// A read-only client of the LlamaCloud chat API: list and retrieve, with the
/// SDK's retry rules and its encoding of requests. It has no call that writes
/// or deletes, follows no redirect, and sends the key to `baseURL` only.
public final class ChatAPIClient: Sendable {
    public static let defaultBaseURL = "https://api.cloud.llamaindex.ai"
    public static let defaultMaxResponseBytes = 256 * 1_000_000

    public let baseURL: URL
    private let authorization: String
    private let keySource: String
    private let userAgent: String
    private let organizationID: String?
    private let retryPolicy: RetryPolicy
    private let transport: CurlTransport
    private let counter = Locked(0)
    private let retried = Locked(0)
    private let stopped = Locked(false)

    /// `keySource` names where the key came from, for the message when it is refused.
    public init(baseURL: URL, apiKey: String, keySource: String = "LLAMA_CLOUD_API_KEY", organizationID: String? = nil,
                retryPolicy: RetryPolicy = RetryPolicy(), timeout: TimeInterval = 60, maxConnections: Int = 8,
                maxResponseBytes: Int = ChatAPIClient.defaultMaxResponseBytes, userAgent: String = "llamacloud-archive") {
        self.baseURL = baseURL
        // A key with a line break would smuggle headers into every request.
        authorization = "Authorization: Bearer " + apiKey.filter { !$0.isNewline && $0 != "\0" }
        self.keySource = keySource
        self.userAgent = "User-Agent: " + userAgent
        self.organizationID = organizationID
        self.retryPolicy = retryPolicy
        // One more worker than retrieves at once, so that listing never waits behind them.
        transport = CurlTransport(workers: max(1, maxConnections) + 1,
                                  limits: .init(timeout: timeout, connectTimeout: 5, maxResponseBytes: maxResponseBytes))
    }

    /// HTTP requests sent so far (retries included).
    public var requestCount: Int { counter.value }

    /// Requests sent again after a failure (within `requestCount`).
    public var retryCount: Int { retried.value }

    /// From now on, failed requests are not tried again and waits end at once:
    /// the run is ending, and requests in flight finish by themselves.
    public func stopRetrying() { stopped.update { $0 = true } }

    /// One page of `GET /api/v1/chat`.
    public func listPage(projectID: String?, pageSize: Int, pageToken: String?) async throws(APIError) -> SessionPage {
        var query = [("page_size", String(pageSize))]
        if let pageToken, !pageToken.isEmpty { query.append(("page_token", pageToken)) }
        let path = "/api/v1/chat"
        let response = try await get(path: path, query: query, projectID: projectID)
        let value: JSONValue
        do { value = try JSONParser.parse(response.body) } catch {
            throw .invalidResponse(path: path, reason: error.description)
        }
        guard case .array(let items)? = value["items"] else {
            throw .invalidResponse(path: path, reason: "no items array")
        }
        var summaries: [SessionSummary] = []
        summaries.reserveCapacity(items.count)
        for item in items {
            guard let id = item["session_id"]?.stringValue, let updated = item["last_updated_at"]?.stringValue else {
                throw .invalidResponse(path: path, reason: "a list item lacks session_id or last_updated_at")
            }
            summaries.append(SessionSummary(sessionID: id, lastUpdatedAt: updated))
        }
        return SessionPage(items: summaries, nextPageToken: value["next_page_token"]?.stringValue)
    }

    /// The raw body of `GET /api/v1/chat/{id}`: parsing is the caller's, so a
    /// body that is not JSON can be reported against its session.
    public func retrieve(sessionID: String, projectID: String?) async throws(APIError) -> RetrievedBody {
        guard !sessionID.isEmpty, sessionID != ".", sessionID != ".." else {
            throw .invalidRequest(reason: "session id \"\(Printable.clean(sessionID))\" cannot be sent as one path segment")
        }
        let response = try await get(path: "/api/v1/chat/" + FormEncoding.percentEncoded(sessionID), query: [],
                                     projectID: projectID)
        return RetrievedBody(status: response.status, bytes: response.body)
    }

    private func get(path: String, query: [(String, String)], projectID: String?) async throws(APIError) -> HTTPResponse {
        var parameters = query
        if let projectID { parameters.append(("project_id", projectID)) }
        if let organizationID { parameters.append(("organization_id", organizationID)) }
        let url = Self.url(base: baseURL, path: path, query: parameters)
        let headers = [authorization, "Accept: application/json", userAgent]

        var attempt = 0
        while true {
            counter.update { $0 += 1 }
            let response: HTTPResponse
            switch await transport.get(url, headers: headers) {
            case .failure(let failure):
                if failure.isRetryable, try await mayRetry(attempt: attempt, headers: [:]) {
                    attempt += 1
                    continue
                }
                throw .transport(path: path, failure: failure)
            case .success(let answer):
                response = answer
            }
            let status = response.status
            if (200..<300).contains(status) { return response }
            if (300..<400).contains(status) {
                let target = response.redirectTarget ?? response.headers["location"] ?? ""
                throw .redirect(status: status, path: path, target: Printable.clean(target, limit: 200))
            }
            if status == 401 || status == 403 { throw .authentication(status: status, keySource: keySource) }
            if retryPolicy.shouldRetry(status: status, headers: response.headers),
               try await mayRetry(attempt: attempt, headers: response.headers) {
                attempt += 1
                continue
            }
            if status == 404 { throw .notFound(path: path) }
            throw .http(status: status, path: path, detail: Self.detail(of: response.body))
        }
    }

    /// Waits before retry `attempt` and says whether to make it.
    private func mayRetry(attempt: Int, headers: [String: String]) async throws(APIError) -> Bool {
        guard attempt < retryPolicy.maxRetries, !stopped.value else { return false }
        var remaining = retryPolicy.delay(attempt: attempt, headers: headers)
        // In short steps, so that a run that is ending does not wait out a long Retry-After.
        while remaining > 0, !stopped.value {
            let step = min(remaining, 0.05)
            try? await Task.sleep(nanoseconds: UInt64(step * 1_000_000_000))
            remaining -= step
        }
        if stopped.value { return false }
        retried.update { $0 += 1 }
        return true
    }

    static func url(base: URL, path: String, query: [(String, String)]) -> String {
        var components = URLComponents(url: base, resolvingAgainstBaseURL: false)!
        components.percentEncodedPath = components.percentEncodedPath.trimmingSuffix("/") + path
        components.percentEncodedQuery = query.isEmpty ? nil : FormEncoding.query(query)
        components.fragment = nil
        return components.string ?? base.absoluteString
    }

    /// The API's `{"detail": "..."}`, or the start of the body, fit to print.
    static func detail(of body: [UInt8]) -> String {
        if let value = try? JSONParser.parse(body), let detail = value["detail"] {
            return Printable.clean(detail.stringValue ?? detail.serialized, limit: 300)
        }
        return Printable.clean(String(decoding: body.prefix(200), as: UTF8.self), limit: 200)
    }
}

/// A value that tasks and threads share, read and changed under a lock.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value { lock.lock(); defer { lock.unlock() }; return stored }

    func update(_ change: (inout Value) -> Void) {
        lock.lock()
        change(&stored)
        lock.unlock()
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
