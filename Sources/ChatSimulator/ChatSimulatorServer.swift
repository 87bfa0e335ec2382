import Foundation

/// The simulated chat API served over real HTTP on 127.0.0.1.
public final class ChatSimulatorServer: Sendable {
    public let service: SimulatedChatService
    private let server: LoopbackHTTPServer

    public var port: UInt16 { server.port }
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(server.port)")! }

    /// Starts listening on `port` (0: any free port); it accepts connections on return.
    public static func start(service: SimulatedChatService, port: UInt16 = 0) throws -> ChatSimulatorServer {
        let server = try LoopbackHTTPServer(port: port) { request in
            let latency = service.latencyMilliseconds
            if latency > 0 { usleep(useconds_t(latency) * 1000) }
            service.passGate(method: request.method, path: request.path)
            let response = service.respond(method: request.method, path: request.path, query: request.query,
                                                 authorization: request.headers["authorization"])
            return LoopbackHTTPServer.Response(status: response.status, headers: response.headers, body: response.body)
        }
        return ChatSimulatorServer(service: service, server: server)
    }

    private init(service: SimulatedChatService, server: LoopbackHTTPServer) {
        self.service = service
        self.server = server
    }

    public func stop() { server.stop() }
}
