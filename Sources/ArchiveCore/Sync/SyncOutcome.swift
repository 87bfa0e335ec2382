/// What one source's sync came to: its summary, and why it failed if it did.
public struct SyncOutcome: Sendable {
    public let name: String
    public let summary: SyncSummary
    public let failure: SyncError?
    /// Why a listing of the source stopped early (a 5xx storm, an endless
    /// cursor): the run went on, and none of its sessions was marked deleted.
    public let listingFailure: String?
}
