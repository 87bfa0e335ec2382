import ChatSimulator
import Foundation

/// A loopback HTTP/1.1 server whose every answer a test writes by hand, byte
/// by byte if it likes: for servers that misbehave on purpose (redirects,
/// drips, endless cursors, bodies cut short). Each connection has a thread.
public final class ScriptedHTTPServer: @unchecked Sendable {
    public struct Request: Sendable {
        public let method: String
        /// The request target exactly as sent: path and query, still percent-encoded.
        public let target: String
        /// Header names in lower case.
        public let headers: [String: String]

        public var path: String { String(target.prefix { $0 != "?" }) }
        public var rawQuery: String {
            guard let mark = target.firstIndex(of: "?") else { return "" }
            return String(target[target.index(after: mark)...])
        }
        /// Query values decoded as a standard server does (`+` is a space).
        public var query: [String: String] {
            var values: [String: String] = [:]
            for pair in rawQuery.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decode(_ text: Substring) -> String {
                    String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
                }
                values[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
            }
            return values
        }
    }

    public final class Connection: @unchecked Sendable {
        let socket: Int32
        public private(set) var isClosed = false
        init(socket: Int32) { self.socket = socket }

        @discardableResult
        public func write(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes.withUnsafeBytes {
                    send(socket, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                }
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }

        @discardableResult
        public func write(_ text: String) -> Bool { write(Array(text.utf8)) }

        /// A whole response with its length.
        public func respond(status: Int, headers: [String: String] = [:], body: [UInt8]) {
            var head = "HTTP/1.1 \(status) Status\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            head += "content-length: \(body.count)\r\n\r\n"
            write(Array(head.utf8) + body)
        }

        public func respond(status: Int, headers: [String: String] = [:], json: String) {
            respond(status: status, headers: headers.merging(["content-type": "application/json"]) { a, _ in a },
                    body: Array(json.utf8))
        }

        public func close() {
            guard !isClosed else { return }
            isClosed = true
            shutdown(socket, Int32(SHUT_RDWR))
        }
    }

    public typealias Handler = @Sendable (Request, Connection) -> Void

    public var port: UInt16 { listener.port }
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    private let handler: Handler
    private let lock = NSLock()
    private var received: [Request] = []
    private var listener: LoopbackListener!

    public init(handler: @escaping Handler) throws {
        self.handler = handler
        listener = try LoopbackListener { [self] client in serve(client) }
    }

    deinit { stop() }

    /// Every request received so far, in order.
    public var requests: [Request] { lock.lock(); defer { lock.unlock() }; return received }

    public func stop() { listener.stop() }

    private func serve(_ client: Int32) {
        let connection = Connection(socket: client)
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while !connection.isClosed {
            guard let (head, length) = RequestHead.parse(buffer) else {
                let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return }
                buffer.append(contentsOf: chunk[0..<count])
                continue
            }
            buffer.removeFirst(length)
            let request = Request(method: head.method, target: head.target, headers: head.headers)
            lock.lock()
            received.append(request)
            lock.unlock()
            handler(request, connection)
        }
    }
}
