import ArgumentParser
import ChatSimulator
import Foundation

/// Serves the simulated chat API for manual use and for the Python SDK
/// check; prints the base URL on its first line, then serves until killed.
/// With `--corpus` it writes generated sessions as JSONL instead.
@main
struct ChatSimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-simulator", abstract: "A local simulator of the LlamaCloud chat API, or a generator of session corpora.")

    @Option(help: "Port to listen on (0: any free one).") var port: UInt16 = 0
    @Option(help: "Sessions per project (or in the corpus).") var sessions = 20
    @Option(help: "Comma-separated project ids (default: the key's default project).") var projects = ""
    @Option(help: "The API key the simulator accepts.") var key = "sim-key"
    @Option(name: .customLong("latency-ms"), help: "Milliseconds of latency per request.") var latencyMs = 0
    @Option(help: "Seed of the generated sessions.") var seed: UInt64 = 42
    @Option(help: "Write the sessions as JSONL to this file (- for standard output) instead of serving them.") var corpus: String?
    @Option(name: .customLong("seconds-apart"), help: "With --corpus: how far apart sessions are, as LOW-HIGH seconds (default 60-3000).")
    var secondsApart: String?

    func spacing() throws -> ClosedRange<Int64> {
        guard let secondsApart else { return SimulatedChatService.defaultSecondsApart }
        let parts = secondsApart.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Int64(parts[0]), let high = Int64(parts[1]), low >= 0, low <= high else {
            throw ValidationError("--seconds-apart \"\(secondsApart)\": expected LOW-HIGH seconds, such as 60-3000")
        }
        return low...high
    }

    func run() async throws {
        if let corpus {
            let file: FileHandle
            if corpus == "-" {
                file = FileHandle.standardOutput
            } else {
                guard FileManager.default.createFile(atPath: corpus, contents: nil), let opened = FileHandle(forWritingAtPath: corpus) else {
                    throw ValidationError("cannot write \(corpus)")
                }
                file = opened
            }
            var buffer = Data()
            SimulatedChatService.writeCorpus(count: sessions, seed: seed, secondsApart: try spacing()) { line in
                buffer.append(contentsOf: line.utf8)
                buffer.append(0x0A)
                if buffer.count > 1 << 22 { file.write(buffer); buffer.removeAll(keepingCapacity: true) }
            }
            file.write(buffer)
            try file.close()
            return
        }
        let service = SimulatedChatService(apiKey: key, seed: seed)
        let names = projects.split(separator: ",").map(String.init)
        if names.isEmpty {
            service.populate(project: nil, count: sessions)
        } else {
            for project in names { service.populate(project: project, count: sessions) }
        }
        service.setLatency(milliseconds: latencyMs)
        let server = try ChatSimulatorServer.start(service: service, port: port)
        FileHandle.standardOutput.write(Data((server.baseURL.absoluteString + "\n").utf8))
        while true { try await Task.sleep(nanoseconds: 3_600_000_000_000) }
    }
}
