import TestSupport
import ArchiveCore
import ChatSimulator
import Foundation
import LlamaCloudClient
import LosslessJSON
import Testing

@Suite struct SyncEngineTests {
    @Test func firstSyncArchivesEverySessionLosslessly() async throws {
        let harness = try await SyncHarness()
        let ids = harness.service.populate(project: nil, count: 25)
        let summary = try await harness.sync()
        #expect(summary.new == 25 && summary.listed == 25 && summary.failed == 0 && summary.status == .ok)
        let store = try harness.store()
        for id in ids {
            let archived = try #require(try store.sessionJSON(sessionID: id))
            let remote = try #require(harness.service.session(id))
            #expect(try JSONParser.parse(archived) == remote, "session \(id) differs after a round trip")
        }
        #expect(try harness.int("SELECT count(*) FROM sessions WHERE project_id IS NULL") == 25)
        #expect(try harness.strings("SELECT status, new, listed FROM sync_runs") == ["ok|25|25"])
    }

    @Test func unchangedArchiveCostsListCallsOnly() async throws {
        let harness = try await SyncHarness()
        harness.service.populate(project: nil, count: 30)
        _ = try await harness.sync()
        harness.service.resetCounts()
        let again = try await harness.sync(pageSize: 7)
        #expect(again.unchanged == 30 && again.new == 0 && again.updated == 0 && again.retrieved == 0)
        #expect(harness.service.requestCount(.retrieve) == 0)
        #expect(harness.service.requestCount(.list) == 5)  // ceil(30 / 7)
        #expect(harness.service.requestCount(.delete) == 0)
        let full = try await harness.sync(full: true)
        #expect(full.retrieved == 30 && full.unchanged == 30)
    }

    /// Without --page-size: 1000 first, halved at each 422 naming page_size,
    /// the size found remembered for the base URL, and found again from it
    /// when the server lowers its limit. A 422 about something else still fails.
    @Test func theListingFindsTheLargestPageTheServerAcceptsAndRemembersIt() async throws {
        let harness = try await SyncHarness()
        harness.service.populate(project: nil, count: 600)
        harness.service.setMaxPageSize(300)
        let first = try await harness.sync(pageSize: nil)
        #expect(first.new == 600 && first.status == .ok)
        #expect(harness.service.requestCount(.list) == 2 + 3)  // 1000 and 500 refused, then pages of 250, 250 and 100
        #expect(try harness.strings("SELECT page_size FROM sources WHERE page_size IS NOT NULL") == ["250"])
        harness.service.resetCounts()
        let second = try await harness.sync(pageSize: nil)
        #expect(second.unchanged == 600 && harness.service.requestCount(.list) == 3)  // 250, 250, 100: no refusal
        harness.service.setMaxPageSize(100)
        harness.service.resetCounts()
        let third = try await harness.sync(pageSize: nil)
        #expect(third.unchanged == 600 && third.status == .ok)
        #expect(harness.service.requestCount(.list) == 2 + 10)  // 250 and 125 refused, then 62 a page
        #expect(try harness.strings("SELECT page_size FROM sources WHERE page_size IS NOT NULL") == ["62"])
        // A fixed --page-size above the limit is not adjusted: the listing fails as it did.
        let fixed = try await harness.sync(pageSize: 500)
        #expect(fixed.status == .partial && fixed.failed == 1)
    }

    @Test func changedSessionsAreRetrievedAndOnlyNewEventsAdded() async throws {
        let harness = try await SyncHarness()
        let ids = harness.service.populate(project: "p", count: 10)
        _ = try await harness.sync(projects: ["p"])
        let before = try harness.strings("SELECT event_id FROM events WHERE session_id = '\(ids[0])' ORDER BY seq")
        let firstUsage = try harness.strings("SELECT occurred_at FROM usage WHERE session_id = '\(ids[0])' ORDER BY seq")
        harness.service.appendRun(to: ids[0])
        harness.service.rewrite(ids[1])
        harness.service.resetCounts()
        let summary = try await harness.sync(projects: ["p"])
        #expect(summary.updated == 2 && summary.unchanged == 8)
        #expect(harness.service.requestCount(.retrieve) == 2)
        let after = try harness.strings("SELECT event_id FROM events WHERE session_id = '\(ids[0])' ORDER BY seq")
        #expect(Array(after.prefix(before.count)) == before && after.count > before.count)
        let usage = try harness.strings("SELECT occurred_at FROM usage WHERE session_id = '\(ids[0])' ORDER BY seq")
        let remoteUpdated = try #require(harness.service.session(ids[0])?["last_updated_at"]?.stringValue)
        #expect(Array(usage.prefix(firstUsage.count)) == firstUsage)
        #expect(usage.last == Timestamp.normalize(remoteUpdated))
        #expect(try harness.int("SELECT count(*) FROM session_revisions WHERE session_id = '\(ids[1])'") == 1)
        let store = try harness.store()
        for id in ids.prefix(2) {
            #expect(try JSONParser.parse(#require(try store.sessionJSON(sessionID: id))) == #require(harness.service.session(id)))
        }
    }

    @Test func deletionsAreMarkedAndKeptAndUndone() async throws {
        let harness = try await SyncHarness()
        let ids = harness.service.populate(project: "p", count: 6)
        let session = try #require(harness.service.session(ids[2]))
        _ = try await harness.sync(projects: ["p"])
        harness.service.delete(ids[2])
        let summary = try await harness.sync(projects: ["p"])
        #expect(summary.deleted == 1)
        #expect(try harness.strings("SELECT session_id FROM sessions WHERE deleted_at IS NOT NULL") == [ids[2]])
        #expect(try harness.int("SELECT count(*) FROM events WHERE session_id = '\(ids[2])'") > 0)
        harness.service.put(session, project: "p")
        let back = try await harness.sync(projects: ["p"])
        #expect(back.updated == 1)
        #expect(try harness.int("SELECT count(*) FROM sessions WHERE deleted_at IS NOT NULL") == 0)
    }

    @Test func sessionAnswering404OnRetrieveIsMarkedDeleted() async throws {
        let harness = try await SyncHarness()
        let ids = harness.service.populate(project: nil, count: 3)
        _ = try await harness.sync()
        harness.service.appendRun(to: ids[0])
        harness.service.inject(.init(.retrieve(sessionID: ids[0]), status: 404, body: #"{"detail":"Session not found"}"#))
        let summary = try await harness.sync()
        #expect(summary.deleted == 1 && summary.failed == 0)
        #expect(try harness.strings("SELECT session_id FROM sessions WHERE deleted_at IS NOT NULL") == [ids[0]])
    }

    @Test func listingThatFailsPartWayMarksNothingDeleted() async throws {
        let harness = try await SyncHarness()
        harness.service.populate(project: nil, count: 20)
        _ = try await harness.sync(pageSize: 5)
        // The second page keeps failing: listing is incomplete.
        harness.service.inject(.init(.list, status: 500, times: 10, afterPassing: 1))
        let summary = try await harness.sync(pageSize: 5, maxRetries: 2)
        #expect(summary.status == .partial && summary.deleted == 0)
        #expect(try harness.int("SELECT count(*) FROM sessions WHERE deleted_at IS NOT NULL") == 0)
        #expect(try harness.strings("SELECT session_id, http_status FROM sync_failures") == ["(listing)|500"])
    }

    @Test func aCursorThatComesRoundAgainEndsTheListing() async throws {
        let harness = try await SyncHarness()
        harness.service.populate(project: nil, count: 3)
        _ = try await harness.sync()
        harness.service.inject(.init(.list, status: 200, body: #"{"items":[],"next_page_token":"again"}"#, times: 5))
        let summary = try await harness.sync()
        #expect(summary.status == .partial && summary.deleted == 0)
        #expect(harness.service.requestCount(.list) == 2 + 1)  // the first sync's one page, then two
        #expect(try harness.strings("SELECT session_id FROM sync_failures") == ["(listing)"])
    }

    @Test func retriesFollowRetryAfterAndStopOnShouldRetryFalse() async throws {
        let harness = try await SyncHarness()
        let ids = harness.service.populate(project: nil, count: 4)
        harness.service.inject(.init(.retrieve(sessionID: ids[0]), status: 429, headers: ["Retry-After": "0"], times: 2))
        harness.service.inject(.init(.retrieve(sessionID: ids[1]), status: 503, headers: ["retry-after-ms": "10"], times: 1))
        harness.service.inject(.init(.retrieve(sessionID: ids[2]), status: 503, headers: ["x-should-retry": "false"], times: 1))
        harness.service.inject(.init(.retrieve(sessionID: ids[3]), status: 400, headers: ["x-should-retry": "true", "retry-after-ms": "0"], times: 1))
        let summary = try await harness.sync()
        #expect(summary.new == 3 && summary.failed == 1 && summary.status == .partial)
        #expect(harness.service.requestCount(.retrieve) == 4 + 2 + 1 + 1)
        #expect(try harness.strings("SELECT session_id, http_status FROM sync_failures") == ["\(ids[2])|503"])
        // The failed session is fetched again by the next run.
        let again = try await harness.sync()
        #expect(again.new == 1 && again.failed == 0)
    }

    @Test func malformedBodyIsRecordedAndTheOthersAreKept() async throws {
        let harness = try await SyncHarness()
        let ids = harness.service.populate(project: nil, count: 5)
        harness.service.inject(.init(.retrieve(sessionID: ids[3]), status: 200, body: #"{"session_id": "truncated"#))
        let summary = try await harness.sync()
        #expect(summary.new == 4 && summary.failed == 1)
        let failure = try #require(try harness.strings("SELECT session_id, http_status, message FROM sync_failures").first)
        #expect(failure.hasPrefix("\(ids[3])|200|response is not valid JSON"))
    }

    @Test func badKeyEndsTheRunAtOnceWithoutRetries() async throws {
        let harness = try await SyncHarness()
        harness.service.populate(project: nil, count: 3)
        await #expect(throws: SyncError.self) { _ = try await harness.sync(key: "wrong-key") }
        let listCalls = harness.service.requestCount(.list)
        let runs = try harness.strings("SELECT status, message FROM sync_runs")
        #expect(listCalls == 1, "list calls: \(listCalls), runs: \(runs)")
        #expect(try harness.strings("SELECT status, message FROM sync_runs") ==
                ["failed|authentication failed (HTTP 401): the key from LLAMA_CLOUD_API_KEY was refused"])
    }

    @Test func severalProjectsKeepTheirProjectIDs() async throws {
        let harness = try await SyncHarness()
        harness.service.populate(project: "alpha", count: 3)
        harness.service.populate(project: "beta", count: 4)
        let summary = try await harness.sync(projects: ["alpha", "beta"])
        #expect(summary.new == 7)
        #expect(try harness.strings("SELECT project_id, count(*) FROM sessions GROUP BY 1 ORDER BY 1") == ["alpha|3", "beta|4"])
        // A project synced alone does not mark the other's sessions deleted.
        _ = try await harness.sync(projects: ["alpha"])
        #expect(try harness.int("SELECT count(*) FROM sessions WHERE deleted_at IS NOT NULL") == 0)
    }

    @Test func unreachableServerIsFatal() async throws {
        let folder = try TemporaryDirectory()
        let archive = Archive(path: folder.path("a.db"))
        let client = ChatAPIClient(baseURL: URL(string: "http://127.0.0.1:9")!, apiKey: "k", retryPolicy: RetryPolicy(maxRetries: 1))
        let error = await #expect(throws: SyncError.self) {
            _ = try await archive.syncOne(client: client, options: SyncOptions())
        }
        #expect(error?.description.contains("cannot reach http://127.0.0.1:9") == true)
    }
}

