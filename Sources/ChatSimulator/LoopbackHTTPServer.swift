import Foundation

/// A small HTTP/1.1 server on 127.0.0.1: keep-alive connections, one thread
/// per connection, each response written in one piece with TCP_NODELAY (so
/// that the latency a test sets is the latency clients see).
public final class LoopbackHTTPServer: @unchecked Sendable {
    public struct Request: Sendable {
        public let method: String
        public let path: String
        public let query: [String: String]
        /// Header names in lower case.
        public let headers: [String: String]
    }

    public struct Response: Sendable {
        public let status: Int
        public let headers: [String: String]
        public let body: [UInt8]
        public init(status: Int, headers: [String: String], body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    public typealias Handler = @Sendable (Request) -> Response

    public var port: UInt16 { listener.port }
    private let handler: Handler
    private var listener: LoopbackListener!

    public init(port: UInt16 = 0, handler: @escaping Handler) throws {
        self.handler = handler
        listener = try LoopbackListener(port: port) { [self] client in serve(client) }
    }

    /// Closes the listening socket and every open connection.
    public func stop() { listener.stop() }

    private func serve(_ client: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            guard let (request, keepAlive, consumed) = Self.parse(buffer) else {
                let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return }
                buffer.append(contentsOf: chunk[0..<count])
                if buffer.count > 1_000_000 { return }
                continue
            }
            buffer.removeFirst(consumed)
            let response = handler(request)
            guard send(all: Self.encode(response, keepAlive: keepAlive), to: client), keepAlive else { return }
        }
    }

    private func send(all bytes: [UInt8], to client: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Foundation.send(client, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }

    /// A whole request at the start of `buffer`, with the bytes it took; nil when more are needed.
    static func parse(_ buffer: [UInt8]) -> (Request, keepAlive: Bool, consumed: Int)? {
        guard let (head, headLength) = RequestHead.parse(buffer) else { return nil }
        let headers = head.headers
        let bodyLength = Int(headers["content-length"] ?? "0") ?? 0
        guard buffer.count >= headLength + bodyLength else { return nil }
        let (method, target, version) = (head.method, head.target, head.version)
        let pathPart = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if pathPart.count > 1 {
            for pair in pathPart[1].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decode(_ text: Substring) -> String {
                    String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
                }
                query[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
            }
        }
        let connection = headers["connection"]?.lowercased()
        let keepAlive = version == "HTTP/1.1" ? connection != "close" : connection == "keep-alive"
        let request = Request(method: method, path: String(pathPart[0]), query: query, headers: headers)
        return (request, keepAlive, headLength + bodyLength)
    }

    static func encode(_ response: Response, keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(response.status) \(reason(response.status))\r\n"
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "content-length: \(response.body.count)\r\n"
        head += keepAlive ? "connection: keep-alive\r\n\r\n" : "connection: close\r\n\r\n"
        return Array(head.utf8) + response.body
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        default: return "Status \(status)"
        }
    }
}

/// The request line and headers at the start of a buffer: the one parse of
/// both loopback servers (the simulator's and the tests' scripted one).
public struct RequestHead: Sendable {
    public let method: String
    /// As sent: path and query, still percent-encoded.
    public let target: String
    public let version: String
    /// Header names in lower case.
    public let headers: [String: String]

    /// The head and the bytes it took, blank line included; nil until it is all there.
    public static func parse(_ buffer: [UInt8]) -> (RequestHead, length: Int)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard buffer.count >= 4, let end = (0...(buffer.count - 4)).first(where: { buffer[$0..<($0 + 4)].elementsEqual(separator) })
        else { return nil }
        var lines = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let head = RequestHead(method: requestLine.first.map(String.init) ?? "",
                               target: requestLine.count > 1 ? String(requestLine[1]) : "/",
                               version: requestLine.count > 2 ? String(requestLine[2]) : "HTTP/1.0", headers: headers)
        return (head, end + 4)
    }
}
