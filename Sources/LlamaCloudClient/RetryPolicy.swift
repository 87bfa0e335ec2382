import Foundation

/// The official SDK's retry rules: which answers are retried and how long to wait.
public struct RetryPolicy: Sendable {
    public var maxRetries: Int
    public var initialDelay: Double = 0.5
    public var maxDelay: Double = 8.0

    public init(maxRetries: Int = 5) { self.maxRetries = maxRetries }

    /// 401/403 are never retried; otherwise `x-should-retry` decides when
    /// present, else 408, 409, 429 and every 5xx are retried.
    public func shouldRetry(status: Int, headers: [String: String]) -> Bool {
        if status == 401 || status == 403 { return false }
        switch headers["x-should-retry"]?.lowercased() {
        case "true": return true
        case "false": return false
        default: return status == 408 || status == 409 || status == 429 || status >= 500
        }
    }

    /// Seconds to wait before retry number `attempt` (0-based): the server's
    /// `retry-after-ms` or `Retry-After` (seconds or an HTTP date) when it is
    /// sensible (0 to 60 s), else exponential backoff with up to 25 % jitter.
    public func delay(attempt: Int, headers: [String: String], now: Date = Date(),
                      jitter: Double = Double.random(in: 0..<1)) -> Double {
        if let millis = headers["retry-after-ms"].flatMap(Double.init), millis >= 0, millis <= 60_000 {
            return millis / 1000
        }
        if let retryAfter = headers["retry-after"] {
            if let seconds = Double(retryAfter.trimmingCharacters(in: .whitespaces)), seconds >= 0, seconds <= 60 {
                return seconds
            }
            if let date = Self.httpDate(retryAfter) {
                let seconds = date.timeIntervalSince(now)
                if seconds <= 60 { return max(0, seconds) }
            }
        }
        let backoff = min(initialDelay * pow(2, Double(attempt)), maxDelay)
        return backoff * (1 - 0.25 * jitter)
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
