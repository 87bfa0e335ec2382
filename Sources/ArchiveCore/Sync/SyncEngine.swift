import Foundation
import LlamaCloudClient
import LosslessJSON

public struct SyncOptions: Sendable {
    /// The projects to sync; `nil` stands for the key's default project.
    public var projects: [String?] = [nil]
    public var organizationID: String?
    /// Sessions per list page; nil: the largest the server accepts, from
    /// 1000 down, halved at each 422 that names the page size, and
    /// remembered in the archive for its source (`sources.page_size`).
    public var pageSize: Int?
    public var concurrency = 8
    /// Retrieve every listed session, changed or not.
    public var full = false
    /// A listing of more pages than this is taken for an endless cursor.
    public var maxPages = 100_000
    /// A listing that hands out this many empty pages in a row, each with a
    /// new token, is taken for an endless cursor.
    public var maxEmptyPagesInARow = 10
    /// `[[redact]]` rules, applied to every retrieved session before it is normalised.
    public var redactor = Redactor()
    /// The source (`[[sources]]` name) the sessions belong to.
    public var sourceName = SourceKey.defaultName

    public init() {}
}

public struct SyncProgress: Sendable {
    public var pagesListed = 0
    public var listed = 0
    public var queued = 0
    public var done = 0
    public var listingFinished = false
    public var elapsed = 0.0

    public init() {}
}

/// A failure that ends the whole run: the key was refused, the server cannot
/// be reached or redirects, or the archive cannot be written. `summary` is the
/// run as recorded (status `failed`).
public struct SyncError: Error, CustomStringConvertible, Sendable {
    public enum Reason: Sendable, Equatable {
        /// The source's key could not be read.
        case key(APIKeyError)
        /// The source's base URL is not an http or https URL.
        case invalidBaseURL(String)
        /// The archive could not be opened or written.
        case archive(ArchiveError)
        /// The API refused the run: the key, a redirect, a request it cannot make.
        case api(APIError)
        /// The listing answered 404 at this base URL.
        case listingNotFound(baseURL: String)
        /// No answer at all from this base URL before anything was listed.
        case unreachable(baseURL: String, APIError)
    }

    public let reason: Reason
    public var summary = SyncSummary()

    public init(_ reason: Reason, summary: SyncSummary = SyncSummary()) {
        self.reason = reason
        self.summary = summary
    }

    /// A short, bounded name of the kind of failure, for a metric's label.
    public var kind: String {
        switch reason {
        case .key: "fatal_key"
        case .invalidBaseURL: "fatal_config"
        case .archive: "fatal_archive"
        case .listingNotFound: "fatal_http"
        case .unreachable: "fatal_network"
        case .api(let error):
            switch error {
            case .authentication: "fatal_key"
            case .transport: "fatal_network"
            case .notFound, .redirect, .http, .invalidResponse: "fatal_http"
            case .invalidRequest: "fatal_other"
            }
        }
    }

    /// In words without the command line's flags (the CLI adds them).
    public var description: String {
        switch reason {
        case .key(let error): error.description
        case .invalidBaseURL(let base): "invalid base URL \(base)"
        case .archive(let error): error.description
        case .api(let error): error.description
        case .listingNotFound(let url): "the API answered 404 to the listing at \(url)"
        case let .unreachable(url, error): "cannot reach \(url): \(error)"
        }
    }
}

/// Lists every page of each project of one source and retrieves the sessions
/// that are new or changed, keeping `concurrency` requests in flight; a
/// `SyncWriter` thread commits what they bring. A fatal error stops the
/// scheduling: requests in flight are never cancelled but run out (within the
/// client's timeout, with no more retries), what they brought is still
/// written, then the run ends. Several engines (one per source) run together
/// through `runTogether` (called by `Archive.sync`, the one way in): one
/// writer, one pool of requests, and a fatal error of one source ends that
/// source alone.
///
/// Unchecked Sendable: an engine's state is touched by one task at a time
/// (its own sync, then the caller once every sync has ended).
final class SyncEngine: @unchecked Sendable {
    private let store: ArchiveWriter
    private let client: ChatAPIClient
    private let options: SyncOptions
    private let onProgress: (SyncProgress) -> Void
    private var summary = SyncSummary()
    private var progress = SyncProgress()
    private let started = Date()
    private var fatal: SyncError.Reason?
    private var hashKey: SourceHash.Key?
    /// Sessions forgotten on purpose: listed, never retrieved.
    private var forgotten = Set<ExactText>()
    /// The page size asked for now, and the one the archive remembered.
    private var pageSize = SyncEngine.largestPageSize
    private var rememberedPageSize: Int?
    static let largestPageSize = 1000
    /// The source's row in `sources`, once `prepare` found it.
    private(set) var source = SourceKey.default
    private var lookup: ArchiveReader?
    /// The requests in flight, shared with the engines of other sources.
    private var pool = RequestPool(size: 1)
    /// The first reason a listing stopped early, with its project.
    private var listingFailure: String?

    init(store: ArchiveWriter, client: ChatAPIClient, options: SyncOptions,
                onProgress: @escaping (SyncProgress) -> Void = { _ in }) {
        self.store = store
        self.client = client
        self.options = options
        self.onProgress = onProgress
    }

    private enum Fetched: Sendable {
        case session(NormalizedSession, project: String?)
        case gone(sessionID: String)
        case failed(sessionID: String, project: String?, status: Int?, message: String)
        case fatal(SyncError.Reason)
    }

    /// Syncs several sources in one run: one writer thread, and one pool of
    /// `concurrency` requests (the first engine's) shared in turn between
    /// them. A source that fails fails alone; an archive that cannot be
    /// written ends them all.
    static func runTogether(_ engines: [SyncEngine], store: ArchiveWriter) async throws -> [SyncOutcome] {
        for engine in engines { try engine.prepare() }
        let pool = RequestPool(size: max(1, engines.first?.options.concurrency ?? 8))
        let runs = Dictionary(engines.map { ($0.source, SyncWriter.Run(id: $0.summary.runID, organizationID: $0.options.organizationID)) },
                              uniquingKeysWith: { first, _ in first })
        let (counts, failure) = await SyncWriter.running(store: store, runs: runs, capacity: max(1, pool.size)) { writer in
            await withTaskGroup(of: Void.self) { group in
                for engine in engines {
                    engine.pool = pool
                    group.addTask { await engine.syncProjects(writer: writer) }
                }
            }
        }
        var outcomes: [SyncOutcome] = []
        for engine in engines {
            engine.finish(counts[engine.source] ?? SyncWriter.Counts(), writerFailure: failure)
            outcomes.append(SyncOutcome(name: engine.options.sourceName, summary: engine.summary,
                                        failure: engine.fatal.map { SyncError($0, summary: engine.summary) },
                                        listingFailure: engine.listingFailure))
        }
        return outcomes
    }

    /// Records the run's start and reads what the listing is compared with.
    private func prepare() throws {
        let projects = options.projects.map { $0.map { JSONValue.string($0) } ?? .null }
        do {
            source = try store.source(named: options.sourceName, baseURL: client.baseURL.absoluteString,
                                      organizationID: options.organizationID)
            summary.runID = try store.beginRun(source: client.baseURL.absoluteString,
                                               projects: JSONValue.array(projects).serialized, at: Timestamp.now())
        } catch {
            throw SyncError(.archive(.cannotWrite(path: store.path, reason: "\(error)")))
        }
        // Whether a listed session changed is asked on a connection of its
        // own, beside the writer thread's.
        do {
            lookup = try ArchiveReader(path: store.path)
            hashKey = try store.reader.sourceHashKey()
            forgotten = Set(try store.reader.forgottenSessionIDs(source: source).map { ExactText($0) })
            rememberedPageSize = try store.reader.acceptedPageSize(source: source)
            pageSize = options.pageSize ?? rememberedPageSize ?? Self.largestPageSize
        } catch let error as ArchiveError {
            throw SyncError(.archive(error))
        } catch {
            throw SyncError(.archive(.unusableArchive(path: store.path, reason: "\(error)")))
        }
    }

    private func syncProjects(writer: SyncWriter) async {
        guard let lookup else { return }
        for project in options.projects where fatal == nil {
            await sync(project: project, writer: writer, lookup: lookup)
        }
    }

    private func finish(_ counts: SyncWriter.Counts, writerFailure failure: ArchiveError?) {
        if fatal == nil, let failure { fatal = .archive(failure) }
        summary.retrieved = counts.retrieved
        summary.new = counts.saves.new
        summary.updated = counts.saves.updated
        summary.unchanged += counts.saves.unchanged
        summary.forgotten += counts.saves.forgotten
        summary.deleted = counts.deleted
        summary.failed = counts.failed + counts.saves.failed
        summary.requests = client.requestCount
        summary.retries = client.retryCount
        summary.seconds = Date().timeIntervalSince(started)
        summary.status = fatal != nil ? .failed : summary.failed > 0 ? .partial : .ok
        if fatal == nil, options.pageSize == nil, pageSize != rememberedPageSize, progress.pagesListed > 0 {
            try? store.rememberAcceptedPageSize(pageSize, source: source)
        }
        summary.source = options.sourceName
        summary.message = fatal.map { SyncError($0).description } ?? listingFailure
        lookup = nil  // its connection closes now, before the writer's: the writer's close is the last and checkpoints
        try? store.finishRun(summary.runID, summary: summary, message: summary.message, at: Timestamp.now())
        if fatal == nil { try? store.noteSynced(source, at: Timestamp.now()) }
        report()
    }

    /// Whether a 422's detail is about the page size (`page_size`, "page size").
    static func namesPageSize(_ detail: String) -> Bool {
        let words = detail.lowercased()
        return words.contains("page_size") || words.contains("page size") || words.contains("pagesize")
    }

    /// Ends the run at the first fatal error: nothing more is scheduled or retried.
    private func stop(_ reason: SyncError.Reason) {
        if fatal == nil { fatal = reason }
        client.stopRetrying()
    }

    private var stopping: Bool { fatal != nil }

    private func sync(project: String?, writer: SyncWriter, lookup: ArchiveReader) async {
        var listed = Set<ExactText>()
        var listingComplete = true
        let client = self.client
        let full = options.full
        let hashKey = self.hashKey!
        let redactor = options.redactor

        await withTaskGroup(of: Fetched.self) { group in
            var inFlight = 0
            var pageToken: String? = nil
            var tokensSeen = Set<ExactText>()
            var pages = 0
            var emptyInARow = 0

            func take(_ fetched: Fetched) {
                inFlight -= 1
                progress.done += 1
                switch fetched {
                case let .session(session, project): submit(.session(session, project: project, source: source), to: writer)
                case .gone(let id): submit(.gone(sessionID: id, source: source), to: writer)
                case let .failed(id, project, status, message):
                    submit(.failure(sessionID: id, project: project, source: source, status: status, message: message), to: writer)
                case .fatal(let reason): stop(reason)
                }
                report()
            }

            func listingFailed(_ message: String, status: Int? = nil) {
                listingComplete = false
                if listingFailure == nil { listingFailure = (project.map { "project \($0): " } ?? "") + message }
                submit(.failure(sessionID: "(listing)", project: project, source: source, status: status, message: message), to: writer)
            }

            listing: repeat {
                let page: SessionPage
                do throws(APIError) {
                    while true {
                        do throws(APIError) {
                            page = try await client.listPage(projectID: project, pageSize: pageSize, pageToken: pageToken)
                            break
                        } catch .http(422, _, let detail) where options.pageSize == nil && pageSize > 1 && Self.namesPageSize(detail) {
                            pageSize /= 2
                        }
                    }
                } catch {
                    switch error {
                    case .authentication, .redirect, .invalidRequest:
                        stop(.api(error))
                    case .notFound:
                        stop(.listingNotFound(baseURL: client.baseURL.absoluteString))
                    case .transport where summary.listed == 0:
                        stop(.unreachable(baseURL: client.baseURL.absoluteString, error))
                    default:
                        listingFailed("listing stopped after \(listed.count) sessions: \(error.description)",
                                      status: error.httpStatus)
                    }
                    break listing
                }
                pages += 1
                progress.pagesListed += 1
                emptyInARow = page.items.isEmpty ? emptyInARow + 1 : 0
                for item in page.items where listed.insert(ExactText(item.sessionID)).inserted {
                    summary.listed += 1
                    progress.listed += 1
                    if forgotten.contains(ExactText(item.sessionID)) {
                        summary.forgotten += 1
                        continue
                    }
                    guard full || needsRetrieve(item, lookup: lookup) else {
                        summary.unchanged += 1
                        continue
                    }
                    while inFlight >= max(1, options.concurrency), let fetched = await group.next() { take(fetched) }
                    if stopping { break listing }
                    let id = item.sessionID
                    let pool = self.pool
                    await pool.acquire()
                    group.addTask {
                        defer { pool.release() }
                        return await Self.fetch(id, project: project, client: client, hashKey: hashKey, redactor: redactor)
                    }
                    inFlight += 1
                    progress.queued += 1
                }
                report()
                if stopping { break listing }
                pageToken = page.nextPageToken
                guard let token = pageToken, !token.isEmpty else { break listing }
                if !tokensSeen.insert(ExactText(token)).inserted {
                    listingFailed("the API gave page token \(Printable.clean(token, limit: 80)) a second time; "
                                  + "listing stopped after \(listed.count) sessions")
                    break listing
                }
                if emptyInARow >= options.maxEmptyPagesInARow || pages >= options.maxPages {
                    let why = pages >= options.maxPages ? "\(pages) pages" : "\(emptyInARow) empty pages in a row"
                    listingFailed("the API kept handing out page tokens (\(why)); listing stopped after \(listed.count) sessions")
                    break listing
                }
            } while true
            progress.listingFinished = true
            // Requests in flight run out by themselves, even after a fatal error.
            while let fetched = await group.next() { take(fetched) }
        }
        if listingComplete && !stopping {
            submit(.markMissingDeleted(project: project, source: source, listed: listed.map(\.text)), to: writer)
        }
        report()
    }

    private func submit(_ item: SyncWriter.Item, to writer: SyncWriter) {
        if let failure = writer.failure { stop(.archive(failure)); return }
        if !writer.submit(item) { stop(.archive(writer.failure ?? .cannotWrite(path: store.path, reason: "the writer stopped"))) }
    }

    private func needsRetrieve(_ item: SessionSummary, lookup: ArchiveReader) -> Bool {
        guard let archived = try? lookup.archivedLastUpdated(sessionID: item.sessionID, source: source) else { return true }
        return archived.deleted || archived.lastUpdatedAt != Timestamp.normalize(item.lastUpdatedAt)
    }

    private func report() {
        progress.elapsed = Date().timeIntervalSince(started)
        onProgress(progress)
    }

    private static func fetch(_ sessionID: String, project: String?, client: ChatAPIClient,
                              hashKey: SourceHash.Key, redactor: Redactor) async -> Fetched {
        let body: RetrievedBody
        do throws(APIError) {
            body = try await client.retrieve(sessionID: sessionID, projectID: project)
        } catch {
            switch error {
            case .authentication: return .fatal(.api(error))
            case .notFound: return .gone(sessionID: sessionID)
            default: return .failed(sessionID: sessionID, project: project, status: error.httpStatus, message: error.description)
            }
        }
        if body.bytes.isEmpty {
            return .failed(sessionID: sessionID, project: project, status: body.status,
                           message: "HTTP \(body.status) with an empty body where a session was expected")
        }
        do {
            let session = try Normalizer.normalize(body: body.bytes, sourceHash: SourceHash.of(body.bytes, key: hashKey),
                                                   redactor: redactor)
            guard session.sessionID.utf8.elementsEqual(sessionID.utf8) else {
                return .failed(sessionID: sessionID, project: project, status: body.status,
                               message: "the response is for session \(Printable.clean(session.sessionID))")
            }
            return .session(session, project: project)
        } catch let error as JSONParseError {
            return .failed(sessionID: sessionID, project: project, status: body.status, message: "response is not valid JSON: \(error)")
        } catch {
            return .failed(sessionID: sessionID, project: project, status: body.status, message: "\(error)")
        }
    }
}
