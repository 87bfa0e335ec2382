import FlyingFox
import Foundation

/// The simulated chat API served over real HTTP on 127.0.0.1.
public final class ChatSimulatorServer: Sendable {
    public let service: SimulatedChatService
    private let server: HTTPServer
    private let task: Task<Void, any Error>
    public let port: UInt16

    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Starts listening on `port` (0: any free port) and returns once it accepts connections.
    public static func start(service: SimulatedChatService, port: UInt16 = 0) async throws -> ChatSimulatorServer {
        let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: port), timeout: 60, logger: .disabled)
        await server.appendRoute("*") { request in
            await Self.answer(request, service: service)
        }
        let task = Task { try await server.run() }
        try await server.waitUntilListening()
        guard case .ip4(_, let boundPort)? = await server.listeningAddress else {
            task.cancel()
            throw CocoaError(.featureUnsupported)
        }
        return ChatSimulatorServer(service: service, server: server, task: task, port: boundPort)
    }

    private init(service: SimulatedChatService, server: HTTPServer, task: Task<Void, any Error>, port: UInt16) {
        self.service = service
        self.server = server
        self.task = task
        self.port = port
    }

    public func stop() async {
        await server.stop(timeout: 1)
        task.cancel()
    }

    private static func answer(_ request: HTTPRequest, service: SimulatedChatService) async -> HTTPResponse {
        let latency = await service.latencyMilliseconds
        if latency > 0 { try? await Task.sleep(nanoseconds: UInt64(latency) * 1_000_000) }
        var query: [String: String] = [:]
        for item in request.query { query[item.name] = item.value }
        let response = await service.respond(method: request.method.rawValue, path: request.path, query: query,
                                             authorization: request.headers[.authorization])
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers[HTTPHeader(name)] = value }
        return HTTPResponse(statusCode: HTTPStatusCode(response.status, phrase: phrase(response.status)),
                            headers: headers, body: Data(response.body))
    }

    private static func phrase(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
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
