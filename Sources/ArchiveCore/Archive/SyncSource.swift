import Foundation
import LlamaCloudClient

/// How a sync talks to the API, whatever the source: the command line's tuning.
public struct SyncRequest: Sendable {
    /// Sessions per list page; nil: the largest the server accepts.
    public var pageSize: Int?
    public var concurrency = 8
    public var maxRetries = 5
    /// Seconds one request may take in all.
    public var timeout = 60.0
    public var maxResponseBytes = 256_000_000
    /// Retrieve every listed session, changed or not.
    public var full = false

    public init() {}
}

/// One source of a sync: its name, a client for its API (or why there is
/// none: its key could not be read), and what to sync.
public struct SyncSource: Sendable {
    public let name: String
    let client: Result<ChatAPIClient, SyncError>
    public let options: SyncOptions

    /// A source from the tests' or the demo's own client.
    public init(client: ChatAPIClient, options: SyncOptions) {
        self.name = options.sourceName
        self.client = .success(client)
        self.options = options
    }

    /// A source from its settings (a `[[sources]]` entry, or the flags'
    /// `default`): its key read by the one rule of `APIKey`, the archive's
    /// redaction rules applied to what it brings.
    public init(_ settings: ArchiveConfig.SourceSettings, request: SyncRequest, redactor: Redactor, defaultBaseURL: String,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        name = settings.name
        var options = SyncOptions()
        options.sourceName = settings.name
        options.projects = settings.projects.isEmpty ? [nil] : settings.projects.map { $0 }
        options.organizationID = settings.organizationID
        options.pageSize = request.pageSize
        options.concurrency = request.concurrency
        options.full = request.full
        options.redactor = redactor
        self.options = options
        let base = settings.baseURL ?? defaultBaseURL
        client = Result { () throws(SyncError) in
            guard ArchiveConfig.isBaseURL(base), let url = URL(string: base) else { throw SyncError(.invalidBaseURL(base)) }
            let key: APIKey
            do throws(APIKeyError) { key = try APIKey.read(settings.key, environment: environment) } catch { throw SyncError(.key(error)) }
            return ChatAPIClient(baseURL: url, apiKey: key.value, keySource: key.origin, organizationID: settings.organizationID,
                                 retryPolicy: RetryPolicy(maxRetries: request.maxRetries), timeout: request.timeout,
                                 maxConnections: request.concurrency, maxResponseBytes: request.maxResponseBytes,
                                 userAgent: "llamacloud-archive/\(ArchiveVersion.current)")
        }
    }
}
