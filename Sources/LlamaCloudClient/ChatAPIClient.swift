import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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

/// A read-only client of the LlamaCloud chat API: list and retrieve, with the
/// SDK's retry rules. It has no call that writes or deletes.
public final class ChatAPIClient: Sendable {
    public static let defaultBaseURL = "https://api.cloud.llamaindex.ai"

    public let baseURL: URL
    private let apiKey: String
    private let organizationID: String?
    private let retryPolicy: RetryPolicy
    private let session: URLSession
    private let counter = RequestCounter()

    public init(baseURL: URL, apiKey: String, organizationID: String? = nil, retryPolicy: RetryPolicy = RetryPolicy(),
                timeout: TimeInterval = 60, maxConnections: Int = 8) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.organizationID = organizationID
        self.retryPolicy = retryPolicy
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpMaximumConnectionsPerHost = max(1, maxConnections)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// HTTP requests sent so far (retries included).
    public var requestCount: Int { counter.value }

    /// One page of `GET /api/v1/chat`.
    public func listPage(projectID: String?, pageSize: Int, pageToken: String?) async throws(APIError) -> SessionPage {
        var query = [URLQueryItem(name: "page_size", value: String(pageSize))]
        if let pageToken, !pageToken.isEmpty { query.append(URLQueryItem(name: "page_token", value: pageToken)) }
        let path = "/api/v1/chat"
        let body = try await get(path: path, query: query, projectID: projectID)
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch {
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
    public func retrieve(sessionID: String, projectID: String?) async throws(APIError) -> [UInt8] {
        let escaped = sessionID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? sessionID
        return try await get(path: "/api/v1/chat/\(escaped)", query: [], projectID: projectID)
    }

    private func get(path: String, query: [URLQueryItem], projectID: String?) async throws(APIError) -> [UInt8] {
        var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)!
        components.percentEncodedPath = components.percentEncodedPath.trimmingSuffix("/") + path
        var items = query
        if let projectID { items.append(URLQueryItem(name: "project_id", value: projectID)) }
        if let organizationID { items.append(URLQueryItem(name: "organization_id", value: organizationID)) }
        components.queryItems = items.isEmpty ? nil : items
        guard let url = components.url else { throw .invalidResponse(path: path, reason: "cannot form a URL") }
        var request = URLRequest(url: url)
        request.httpMethod = "GET"
        request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")

        var attempt = 0
        while true {
            counter.increment()
            let data: Data
            let response: URLResponse
            do {
                (data, response) = try await session.data(for: request)
            } catch {
                if attempt < retryPolicy.maxRetries, !Task.isCancelled {
                    await sleep(seconds: retryPolicy.delay(attempt: attempt, headers: [:]))
                    attempt += 1
                    continue
                }
                throw .transport(path: path, reason: Self.describe(error))
            }
            guard let http = response as? HTTPURLResponse else {
                throw .invalidResponse(path: path, reason: "not an HTTP response")
            }
            let status = http.statusCode
            if (200..<300).contains(status) { return [UInt8](data) }
            var headers: [String: String] = [:]
            for (key, value) in http.allHeaderFields {
                if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
            }
            if status == 401 || status == 403 { throw .authentication(status: status) }
            if retryPolicy.shouldRetry(status: status, headers: headers), attempt < retryPolicy.maxRetries, !Task.isCancelled {
                await sleep(seconds: retryPolicy.delay(attempt: attempt, headers: headers))
                attempt += 1
                continue
            }
            if status == 404 { throw .notFound(path: path) }
            throw .http(status: status, path: path, detail: Self.detail(of: data))
        }
    }

    private func sleep(seconds: Double) async {
        try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
    }

    /// The API's `{"detail": "..."}`, or the start of the body.
    static func detail(of data: Data) -> String {
        if let value = try? JSONParser.parse([UInt8](data)), let detail = value["detail"] {
            return detail.stringValue ?? detail.serialized
        }
        let text = String(decoding: data.prefix(200), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func describe(_ error: any Error) -> String {
        if let urlError = error as? URLError {
            switch urlError.code {
            case .timedOut: return "timed out"
            case .cannotConnectToHost: return "connection refused"
            case .networkConnectionLost: return "connection lost"
            case .cannotFindHost: return "host not found"
            default: return "network error \(urlError.code.rawValue)"
            }
        }
        return "\(error)"
    }
}

final class RequestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
