import ArchiveCore
import LlamaCloudClient

extension Archive {
    /// One source's sync through `sync`, the one way in: its summary, or the `SyncError` that ended it.
    public func syncOne(client: ChatAPIClient, options: SyncOptions) async throws -> SyncSummary {
        let outcome = try await sync([SyncSource(client: client, options: options)]).outcomes[0]
        if let failure = outcome.failure { throw failure }
        return outcome.summary
    }
}
