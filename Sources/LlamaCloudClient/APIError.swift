/// What went wrong talking to the chat API, with the HTTP status where there was one.
public enum APIError: Error, CustomStringConvertible, Equatable, Sendable {
    /// 401 or 403: the key was refused. Never retried. `keySource` says where it came from.
    case authentication(status: Int, keySource: String)
    /// 404: no such session (or deleted).
    case notFound(path: String)
    /// A 3xx: never followed, so the key never goes anywhere but its origin.
    case redirect(status: Int, path: String, target: String)
    /// Any other non-success status, after the retries allowed.
    case http(status: Int, path: String, detail: String)
    /// The body was not the JSON expected.
    case invalidResponse(path: String, reason: String)
    /// No HTTP answer at all (refused, reset, timed out, cut short), after the retries allowed.
    case transport(path: String, failure: TransportError)
    /// A request that cannot be made as asked (a session id that is not one path segment).
    case invalidRequest(reason: String)

    public var description: String {
        switch self {
        case let .authentication(status, keySource):
            return "authentication failed (HTTP \(status)): the key from \(keySource) was refused"
        case .notFound(let path):
            return "HTTP 404 for \(path)"
        case let .redirect(status, _, target):
            return "the API answered \(status) to \(target.isEmpty ? "(no Location)" : target): not followed"
        case let .http(status, path, detail):
            return "HTTP \(status) for \(path)" + (detail.isEmpty ? "" : ": \(detail)")
        case let .invalidResponse(path, reason):
            return "invalid response for \(path): \(reason)"
        case let .transport(path, failure):
            return "no response for \(path): \(failure)"
        case .invalidRequest(let reason):
            return reason
        }
    }

    public var httpStatus: Int? {
        switch self {
        case .authentication(let status, _): return status
        case .notFound: return 404
        case .redirect(let status, _, _): return status
        case .http(let status, _, _): return status
        case .invalidResponse, .transport, .invalidRequest: return nil
        }
    }
}
