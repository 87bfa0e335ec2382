import TestSupport
import Testing
import SQLiteCore
@_spi(Testing) @testable import ArchiveCore

@Suite struct ToolPairingTests {
    @Test func showPairsRepeatedCallIDsAsTheViewDoes() throws {
        let fixture = try QueryFixture()
        let call = #"{"type":"tool_call","call_id":"c1","name":"lookup","arguments":{"q":"a"}}"#
        let second = #"{"type":"tool_call","call_id":"c1","name":"lookup","arguments":{"q":"b"}}"#
        try fixture.add("s", updated: "2026-05-01T00:00:00Z", runs: [(1, 1, nil)], extra: [
            call, second,
            #"{"type":"tool_result","call_id":"c1","name":"lookup","result":"first"}"#,
            #"{"type":"tool_result","call_id":"c1","name":"lookup","result":"second"}"#,
        ])
        var fromView: [String] = []
        try fixture.database.forEachRow("SELECT arguments || ' -> ' || result FROM tool_calls ORDER BY call_seq") {
            try fromView.append($0.string(0))
        }
        #expect(fromView == [#"{"q":"a"} -> "first""#, #"{"q":"b"} -> "second""#])
        let transcript = try #require(try fixture.store.reader.transcript(sessionID: "s"))
        let shown = transcript.runs.flatMap(\.toolCalls).map { "\($0.arguments ?? "") -> \($0.result ?? "")" }
        #expect(shown == fromView)
    }
}
