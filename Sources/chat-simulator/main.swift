import ChatSimulator
import Foundation

// Serves the simulated chat API for manual use and for the Python SDK check:
//   chat-simulator [--port N] [--sessions N] [--projects a,b] [--key KEY] [--latency-ms N] [--seed N]
// Prints the base URL on its first line, then serves until killed.
//   chat-simulator --corpus PATH [--sessions N] [--seed N]
// writes N generated sessions as JSONL instead (the benchmark's corpus).
var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else {
        FileHandle.standardError.write(Data("chat-simulator: unexpected argument \(flag)\n".utf8))
        exit(64)
    }
    options[String(flag.dropFirst(2))] = value
}
if let corpus = options["corpus"] {
    guard FileManager.default.createFile(atPath: corpus, contents: nil), let file = FileHandle(forWritingAtPath: corpus) else {
        FileHandle.standardError.write(Data("chat-simulator: cannot write \(corpus)\n".utf8))
        exit(1)
    }
    var buffer = Data()
    SimulatedChatService.writeCorpus(count: Int(options["sessions"] ?? "20") ?? 20, seed: UInt64(options["seed"] ?? "42") ?? 42) { line in
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count > 1 << 22 { file.write(buffer); buffer.removeAll(keepingCapacity: true) }
    }
    file.write(buffer)
    try file.close()
    exit(0)
}
let service = SimulatedChatService(apiKey: options["key"] ?? "sim-key", seed: UInt64(options["seed"] ?? "42") ?? 42)
let projects = (options["projects"] ?? "").split(separator: ",").map(String.init)
let count = Int(options["sessions"] ?? "20") ?? 20
if projects.isEmpty {
    service.populate(project: nil, count: count)
} else {
    for project in projects { service.populate(project: project, count: count) }
}
service.setLatency(milliseconds: Int(options["latency-ms"] ?? "0") ?? 0)
let server = try ChatSimulatorServer.start(service: service, port: UInt16(options["port"] ?? "0") ?? 0)
FileHandle.standardOutput.write(Data((server.baseURL.absoluteString + "\n").utf8))
while true { try await Task.sleep(nanoseconds: 3_600_000_000_000) }
