/// What went wrong talking to the chat API, with the HTTP status where there was one.
public enum APIError: Error, CustomStringConvertible, Equatable, Sendable {
    /// 401 or 403: the key was refused. Never retried.
    case authentication(status: Int)
    /// 404: no such session (or deleted).
    case notFound(path: String)
    /// Any other non-success status, after the retries allowed.
    case http(status: Int, path: String, detail: String)
    /// The body was not the JSON expected.
    case invalidResponse(path: String, reason: String)
    /// No HTTP answer at all (refused, reset, timed out), after the retries allowed.
    case transport(path: String, reason: String)

    public var description: String {
        switch self {
        case .authentication(let status):
            return "authentication failed (HTTP \(status)): check LLAMA_CLOUD_API_KEY"
        case .notFound(let path):
            return "HTTP 404 for \(path)"
        case let .http(status, path, detail):
            return "HTTP \(status) for \(path)" + (detail.isEmpty ? "" : ": \(detail)")
        case let .invalidResponse(path, reason):
            return "invalid response for \(path): \(reason)"
        case let .transport(path, reason):
            return "no response for \(path): \(reason)"
        }
    }

    public var httpStatus: Int? {
        switch self {
        case .authentication(let status): return status
        case .notFound: return 404
        case .http(let status, _, _): return status
        case .invalidResponse, .transport: return nil
        }
    }
}
