import CCurl
import Foundation

/// One HTTP answer, whatever its status.
struct HTTPResponse: Sendable {
    let status: Int
    /// Header names in lower case; the last of a repeated name wins.
    let headers: [String: String]
    let body: [UInt8]
    /// Where a 3xx pointed (curl's resolved `Location`), never followed.
    let redirectTarget: String?
}

/// Why a request got no usable HTTP answer.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    case timedOut(seconds: Double)
    case connectionRefused
    case hostNotFound
    case connectionLost
    case untrustedCertificate(detail: String)
    case tls(detail: String)
    case cutShort(received: Int, expected: Int?)
    case tooLarge(limitBytes: Int)
    case other(detail: String)

    public var description: String {
        switch self {
        case .timedOut(let seconds): return "timed out after \(Self.seconds(seconds))"
        case .connectionRefused: return "connection refused"
        case .hostNotFound: return "host not found"
        case .connectionLost: return "connection lost"
        case .untrustedCertificate(let detail): return "untrusted TLS certificate (\(detail))"
        case .tls(let detail): return "TLS failed (\(detail))"
        case let .cutShort(received, expected):
            return "body cut short after \(received) bytes" + (expected.map { " of \($0)" } ?? "")
        case .tooLarge(let limit):
            let size = limit % 1_000_000 == 0 ? "\(limit / 1_000_000) MB" : "\(limit) bytes"
            return "response larger than \(size)"
        case .other(let detail): return detail
        }
    }

    /// Worth another try under the SDK's rules (connection errors and timeouts).
    var isRetryable: Bool {
        switch self {
        case .timedOut, .connectionRefused, .hostNotFound, .connectionLost, .cutShort: return true
        case .untrustedCertificate, .tls, .tooLarge, .other: return false
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}

/// GET requests through libcurl on a pool of worker threads, each with its own
/// handle (so its own kept-alive connection). No redirect is ever followed,
/// `timeout` bounds a request's whole duration, and a body is refused past
/// `maxResponseBytes`. Requests are never cancelled midway: a caller that
/// gives up simply stops sending new ones, and those in flight end by
/// themselves within `timeout`.
final class CurlTransport: Sendable {
    struct Limits: Sendable {
        var timeout: Double
        var connectTimeout: Double
        var maxResponseBytes: Int
    }

    private struct Job {
        let url: String
        let headers: [String]
        let done: @Sendable (Result<HTTPResponse, TransportError>) -> Void
    }

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// What the workers share: the jobs, and whether to end. The workers hold
    /// this, never the transport, so that releasing the transport (whose
    /// `deinit` closes the queue) ends them: no thread outlives its owner.
    private final class JobQueue: @unchecked Sendable {
        private let condition = NSCondition()
        private var jobs: [Job] = []
        private var closed = false

        func add(_ job: Job) {
            condition.lock()
            jobs.append(job)
            condition.signal()
            condition.unlock()
        }

        /// The next job; nil once closed and empty.
        func next() -> Job? {
            condition.lock()
            defer { condition.unlock() }
            while jobs.isEmpty && !closed { condition.wait() }
            return jobs.isEmpty ? nil : jobs.removeFirst()
        }

        func close() {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }
    }

    private let queue = JobQueue()

    init(workers: Int, limits: Limits) {
        _ = Self.globalInit
        for index in 0..<max(1, workers) {
            let queue = self.queue
            let thread = Thread { Self.work(queue: queue, limits: limits) }
            thread.name = "http-\(index)"
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }

    /// The workers finish the queued requests, then end.
    deinit { queue.close() }

    func get(_ url: String, headers: [String]) async -> Result<HTTPResponse, TransportError> {
        await withCheckedContinuation { continuation in
            queue.add(Job(url: url, headers: headers) { continuation.resume(returning: $0) })
        }
    }

    private static func work(queue: JobQueue, limits: Limits) {
        guard let handle = curl_easy_init() else {
            while let job = queue.next() { job.done(.failure(.other(detail: "libcurl could not start"))) }
            return
        }
        defer { curl_easy_cleanup(handle) }
        while let job = queue.next() {
            job.done(perform(job, on: handle, limits: limits))
        }
    }

    private static func perform(_ job: Job, on handle: UnsafeMutableRawPointer, limits: Limits) -> Result<HTTPResponse, TransportError> {
        curl_easy_reset(handle)
        let transfer = Transfer(limit: limits.maxResponseBytes)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in job.headers { headerList = curl_slist_append(headerList, header) }
        defer { curl_slist_free_all(headerList) }

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
            withExtendedLifetime(transfer) {
                let context = Unmanaged.passUnretained(transfer).toOpaque()
                _ = ccurl_setopt_string(handle, CURLOPT_URL, job.url)
                _ = ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
                _ = ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
                _ = ccurl_setopt_long(handle, CURLOPT_PATH_AS_IS, 1)
                _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
                _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(limits.timeout * 1000))
                _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(limits.connectTimeout, limits.timeout) * 1000))
                _ = ccurl_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(limits.maxResponseBytes))
                _ = ccurl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
                _ = ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
                _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
                _ = ccurl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
                    Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue().receive(body: data, size * count)
                })
                _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
                _ = ccurl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
                    Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue().receive(header: data, size * count)
                })
                _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
                return curl_easy_perform(handle)
            }
        }
        if code != CURLE_OK {
            let message = errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            let detail = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure(failure(code, limits: limits, detail: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail,
                                    transfer: transfer, handle: handle))
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var target: UnsafeMutablePointer<CChar>?
        _ = ccurl_getinfo_string(handle, CURLINFO_REDIRECT_URL, &target)
        return .success(HTTPResponse(status: status, headers: transfer.headers, body: transfer.body,
                                     redirectTarget: target.map { String(cString: $0) }))
    }

    private static func failure(_ code: CURLcode, limits: Limits, detail: String, transfer: Transfer,
                         handle: UnsafeMutableRawPointer) -> TransportError {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timedOut(seconds: limits.timeout)
        case CURLE_COULDNT_CONNECT: return .connectionRefused
        case CURLE_COULDNT_RESOLVE_HOST: return .hostNotFound
        case CURLE_PEER_FAILED_VERIFICATION: return .untrustedCertificate(detail: detail)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE:
            return .tls(detail: detail)
        case CURLE_FILESIZE_EXCEEDED: return .tooLarge(limitBytes: limits.maxResponseBytes)
        case CURLE_WRITE_ERROR where transfer.exceeded: return .tooLarge(limitBytes: limits.maxResponseBytes)
        case CURLE_PARTIAL_FILE:
            var expected: curl_off_t = -1
            _ = ccurl_getinfo_off_t(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected)
            return .cutShort(received: transfer.received, expected: expected >= 0 ? Int(expected) : nil)
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING: return .connectionLost
        default: return .other(detail: detail)
        }
    }
}

/// The bytes and headers of one transfer, filled by libcurl's callbacks.
private final class Transfer {
    let limit: Int
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var received = 0
    var exceeded = false

    init(limit: Int) { self.limit = limit }

    func receive(body data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
        received += count
        guard body.count + count <= limit else {
            exceeded = true
            return 0  // libcurl stops with CURLE_WRITE_ERROR
        }
        guard let data, count > 0 else { return count }
        data.withMemoryRebound(to: UInt8.self, capacity: count) {
            body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
        }
        return count
    }

    func receive(header data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
        guard let data, count > 0 else { return count }
        let line = data.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after a 100 Continue, say)
        } else if let colon = line.firstIndex(of: ":") {
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return count
    }
}
