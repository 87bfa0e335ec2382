import Foundation
import LlamaCloudClient
import LosslessJSON

public struct SyncOptions: Sendable {
    /// The projects to sync; `nil` stands for the key's default project.
    public var projects: [String?] = [nil]
    public var organizationID: String?
    public var pageSize = 100
    public var concurrency = 8
    /// Retrieve every listed session, changed or not.
    public var full = false

    public init() {}
}

public struct SyncSummary: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case running, ok, partial, failed }

    public var status: Status = .running
    public var listed = 0
    public var retrieved = 0
    public var new = 0
    public var updated = 0
    public var unchanged = 0
    public var deleted = 0
    public var failed = 0
    public var requests = 0
    public var seconds = 0.0
    public var runID: Int64 = 0

    public init() {}
}

public struct SyncProgress: Sendable {
    public var pagesListed = 0
    public var listed = 0
    public var queued = 0
    public var done = 0
    public var listingFinished = false
    public var elapsed = 0.0
}

/// A failure that ends the whole run: the key was refused, the server cannot
/// be reached, or the archive cannot be written.
public struct SyncFatalError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Lists every page of each project, retrieves the sessions that are new or
/// changed (concurrently), and writes them through one writer: this task.
public final class SyncEngine {
    private let store: ArchiveStore
    private let client: ChatAPIClient
    private let options: SyncOptions
    private let onProgress: (SyncProgress) -> Void
    private var summary = SyncSummary()
    private var progress = SyncProgress()
    private let started = Date()

    public init(store: ArchiveStore, client: ChatAPIClient, options: SyncOptions,
                onProgress: @escaping (SyncProgress) -> Void = { _ in }) {
        self.store = store
        self.client = client
        self.options = options
        self.onProgress = onProgress
    }

    private enum Fetched: Sendable {
        case session(NormalizedSession, project: String?)
        case gone(sessionID: String, project: String?)
        case failed(sessionID: String, project: String?, status: Int?, message: String)
        case fatal(String)
    }

    public func run() async throws -> SyncSummary {
        let projects = options.projects.map { $0.map { JSONValue.string($0) } ?? .null }
        summary.runID = try store.beginRun(source: client.baseURL.absoluteString,
                                           projects: JSONValue.array(projects).serialized, at: Timestamp.now())
        do {
            for project in options.projects { try await sync(project: project) }
            summary.status = summary.failed > 0 ? .partial : .ok
            finish(message: nil)
        } catch let error as SyncFatalError {
            summary.status = .failed
            finish(message: error.message)
            throw error
        }
        return summary
    }

    private func finish(message: String?) {
        summary.requests = client.requestCount
        summary.seconds = Date().timeIntervalSince(started)
        try? store.finishRun(summary.runID, summary: summary, message: message, at: Timestamp.now())
    }

    private func sync(project: String?) async throws {
        var listed = Set<String>()
        var listingComplete = true
        let client = self.client
        let full = options.full

        try await withThrowingTaskGroup(of: Fetched.self) { group in
            var inFlight = 0
            var pageToken: String? = nil
            var tokensSeen = Set<String>()
            listing: repeat {
                let page: SessionPage
                do throws(APIError) {
                    page = try await client.listPage(projectID: project, pageSize: options.pageSize, pageToken: pageToken)
                } catch {
                    if case .authentication = error { throw SyncFatalError(message: error.description) }
                    if case .transport = error, summary.listed == 0 {
                        throw SyncFatalError(message: "cannot reach \(client.baseURL.absoluteString): \(error.description)")
                    }
                    listingComplete = false
                    try record(failure: "(listing)", project: project, status: error.httpStatus,
                               message: "listing stopped after \(listed.count) sessions: \(error.description)")
                    break listing
                }
                progress.pagesListed += 1
                for item in page.items where listed.insert(item.sessionID).inserted {
                    summary.listed += 1
                    progress.listed += 1
                    guard try full || needsRetrieve(item) else {
                        summary.unchanged += 1
                        continue
                    }
                    while inFlight >= max(1, options.concurrency) {
                        try await handle(try await group.next()!)
                        inFlight -= 1
                    }
                    let id = item.sessionID
                    group.addTask { await Self.fetch(id, project: project, client: client) }
                    inFlight += 1
                    progress.queued += 1
                }
                report()
                pageToken = page.nextPageToken
                if let token = pageToken, !token.isEmpty, !tokensSeen.insert(token).inserted {
                    // A cursor that comes round again would page forever.
                    listingComplete = false
                    try record(failure: "(listing)", project: project, status: nil,
                               message: "the API gave page token \(token) a second time; listing stopped after \(listed.count) sessions")
                    break listing
                }
            } while !(pageToken ?? "").isEmpty
            progress.listingFinished = true
            while let fetched = try await group.next() {
                try await handle(fetched)
            }
        }
        if listingComplete {
            summary.deleted += try writing { try store.markMissingDeleted(projectID: project, listed: listed, at: Timestamp.now()) }
        }
        report()
    }

    private func needsRetrieve(_ item: SessionSummary) throws -> Bool {
        guard let archived = try writing({ try store.archivedLastUpdated(sessionID: item.sessionID) }) else { return true }
        return archived.deleted || archived.lastUpdatedAt != Timestamp.normalize(item.lastUpdatedAt)
    }

    private func handle(_ fetched: Fetched) async throws {
        progress.done += 1
        defer { report() }
        switch fetched {
        case let .session(session, project):
            summary.retrieved += 1
            let outcome = try writing {
                try store.save(session, projectID: project, organizationID: options.organizationID, syncedAt: Timestamp.now())
            }
            switch outcome {
            case .new: summary.new += 1
            case .unchanged: summary.unchanged += 1
            case .appended, .rewritten, .metadataChanged: summary.updated += 1
            }
        case let .gone(id, _):
            if try writing({ try store.markDeleted(sessionID: id, at: Timestamp.now()) }) { summary.deleted += 1 }
        case let .failed(id, project, status, message):
            try record(failure: id, project: project, status: status, message: message)
        case .fatal(let message):
            throw SyncFatalError(message: message)
        }
    }

    private func record(failure sessionID: String, project: String?, status: Int?, message: String) throws {
        summary.failed += 1
        try writing {
            try store.recordFailure(runID: summary.runID, sessionID: sessionID, projectID: project, httpStatus: status,
                                    message: message, at: Timestamp.now())
        }
    }

    /// Archive errors end the run: nothing more can be kept safely.
    private func writing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            throw SyncFatalError(message: "cannot write the archive \(store.path): \(error)")
        }
    }

    private func report() {
        progress.elapsed = Date().timeIntervalSince(started)
        onProgress(progress)
    }

    private static func fetch(_ sessionID: String, project: String?, client: ChatAPIClient) async -> Fetched {
        let body: [UInt8]
        do throws(APIError) {
            body = try await client.retrieve(sessionID: sessionID, projectID: project)
        } catch {
            switch error {
            case .authentication: return .fatal(error.description)
            case .notFound: return .gone(sessionID: sessionID, project: project)
            default: return .failed(sessionID: sessionID, project: project, status: error.httpStatus, message: error.description)
            }
        }
        do {
            let session = try Normalizer.normalize(try JSONParser.parse(body), sourceHash: SourceHash.of(body))
            guard session.sessionID == sessionID else {
                return .failed(sessionID: sessionID, project: project, status: 200,
                               message: "the response is for session \(session.sessionID)")
            }
            return .session(session, project: project)
        } catch let error as JSONParseError {
            return .failed(sessionID: sessionID, project: project, status: 200, message: "response is not valid JSON: \(error)")
        } catch {
            return .failed(sessionID: sessionID, project: project, status: 200, message: "\(error)")
        }
    }
}
