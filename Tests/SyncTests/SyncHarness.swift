import TestSupport
@_spi(Testing) @testable import ArchiveCore
import ChatSimulator
import Foundation
import LlamaCloudClient
import LosslessJSON
import SQLiteCore

/// A simulator on loopback and an archive file, for one test.
final class SyncHarness {
    let folder: TemporaryDirectory
    let server: ChatSimulatorServer
    var service: SimulatedChatService { server.service }
    let archivePath: String

    init(seed: UInt64 = 7) async throws {
        folder = try TemporaryDirectory()
        archivePath = folder.path("archive.db")
        server = try ChatSimulatorServer.start(service: SimulatedChatService(apiKey: "test-key", seed: seed))
    }

    deinit {
        let server = self.server
        server.stop()
    }

    func client(key: String = "test-key", maxRetries: Int = 5) -> ChatAPIClient {
        ChatAPIClient(baseURL: server.baseURL, apiKey: key, retryPolicy: RetryPolicy(maxRetries: maxRetries), timeout: 10)
    }

    func sync(projects: [String?] = [nil], full: Bool = false, pageSize: Int? = 7, key: String = "test-key",
              maxRetries: Int = 5) async throws -> SyncSummary {
        var options = SyncOptions()
        options.projects = projects
        options.full = full
        options.pageSize = pageSize
        options.concurrency = 4
        let client = client(key: key, maxRetries: maxRetries)
        return try await Archive(path: archivePath).syncOne(client: client, options: options)
    }

    func store() throws -> ArchiveReader { try ArchiveReader(path: archivePath) }

    func strings(_ sql: String) throws -> [String] {
        let database = try Database(path: archivePath, mode: .readOnly)
        var rows: [String] = []
        try database.prepare(sql).forEachRow { row in
            rows.append(try (0..<row.count).map { try row.isNull($0) ? "∅" : row.string($0) }.joined(separator: "|"))
        }
        return rows
    }

    func int(_ sql: String) throws -> Int { Int(try strings(sql).first ?? "") ?? -1 }
}
