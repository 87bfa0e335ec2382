import TestSupport
import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import Testing

/// A session normalised from a response's bytes (events read again one at a
/// time) is the same as one normalised from parsed values.
@Suite struct StreamedNormalizationTests {
    @Test func bothStoragesGiveTheSameEventsTotalsAndLinks() throws {
        var compared = 0
        SimulatedChatService.writeCorpus(count: 300, seed: 99) { line in
            let bytes = Array(line.utf8)
            guard let fromValues = try? Normalizer.normalize(JSONParser.parse(bytes)),
                  let streamed = try? Normalizer.normalize(body: bytes) else {
                Issue.record("a generated session failed to normalise")
                return
            }
            #expect(Array(streamed.events) == Array(fromValues.events), "\(fromValues.sessionID)")
            #expect(streamed.events.count == fromValues.events.count)
            #expect(streamed.events.totals == fromValues.events.totals)
            #expect(streamed.events.toolCallLinks == fromValues.events.toolCallLinks)
            #expect(streamed.meta == fromValues.meta && streamed.unknownFields == fromValues.unknownFields)
            compared += 1
        }
        #expect(compared == 300)
    }

    @Test func badEventsAndBadJSONAreRefusedAlike() throws {
        let cases = [
            #"{"session_id":"s","last_updated_at":"2026-01-01T00:00:00Z","events":[{"type":"text"},3]}"#,
            #"{"session_id":"s","last_updated_at":"2026-01-01T00:00:00Z","events":"none"}"#,
            #"{"session_id":"s","last_updated_at":"2026-01-01T00:00:00Z","events":[{"type":"text"}"#,
            #"{"last_updated_at":"2026-01-01T00:00:00Z","events":[]}"#,
        ]
        for json in cases {
            #expect(throws: (any Error).self, "\(json)") { _ = try Normalizer.normalize(body: Array(json.utf8)) }
            #expect(throws: (any Error).self, "\(json)") { _ = try Normalizer.normalize(JSONParser.parse(json)) }
        }
        let nullEvents = try Normalizer.normalize(body: Array(#"{"session_id":"s","last_updated_at":"2026-01-01T00:00:00Z","events":null}"#.utf8))
        #expect(nullEvents.events.count == 0)
    }

    @Test func anEmptyDeltaKeepsItsEmptyContentThroughTheArchive() async throws {
        let harness = try await SyncHarness()
        let session: JSONValue = [
            "session_id": "ses-empty", "last_updated_at": "2026-03-01T10:00:00Z",
            "events": [["type": "user_input", "content": "q"], ["type": "text_delta", "content": ""],
                       ["type": "text", "content": ""], ["type": "thinking_delta", "content": ""],
                       ["type": "thinking_delta", "content": "ab"], ["type": "thinking", "content": "ab"]],
        ]
        harness.service.put(session, project: nil)
        let first = try await harness.sync()
        #expect(first.new == 1)
        let archived = try #require(try harness.store().sessionJSON(sessionID: "ses-empty"))
        #expect(try JSONParser.parse(archived) == session)
        // And a full re-sync finds it unchanged: no revision, no rewrite.
        let again = try await harness.sync(full: true)
        #expect(again.unchanged == 1 && again.updated == 0)
        #expect(try harness.int("SELECT count(*) FROM session_revisions") == 0)
    }
}

@Suite struct EventLimitTests {
    @Test func aSessionWithMoreEventsThanTheKeyHoldsIsRefused() throws {
        let json = #"{"session_id":"big","last_updated_at":"2026-01-01T00:00:00Z","events":[{},{},{},{},{}]}"#
        #expect(throws: NormalizationError.self) { _ = try Normalizer.normalize(body: Array(json.utf8), maxEvents: 4) }
        #expect(throws: NormalizationError.self) { _ = try Normalizer.normalize(JSONParser.parse(json), maxEvents: 4) }
        #expect(try Normalizer.normalize(body: Array(json.utf8), maxEvents: 5).events.count == 5)
        #expect(Normalizer.maxEventsPerSession == 1 << 24)
        do { _ = try Normalizer.normalize(body: Array(json.utf8), maxEvents: 4) } catch {
            #expect("\(error)" == "session big: more than 4 events: the archive keeps at most 4 per session")
        }
    }
}
