import ArchiveCore
import Foundation
import LosslessJSON
import Testing
import TestSupport

/// The property behind Fuzz/FuzzNumbers.swift, in the test suite: sessions
/// whose numbers are drawn (seeded) from the values at the limits are
/// normalised and saved without a trap, export gives every literal back,
/// every report answers, and the kept totals agree with the rows.
@Suite struct NumbersAtTheLimitsPropertyTests {
    static let literals = [
        "0", "-1", "2147483647", "-2147483648", "9007199254740991", "9007199254740992", "4611686018427387904",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551616", "1e308", "-1e308",
        "1e400", "0.5", "-0.0", "1e3", "12345678901234567890", "\"NaN\"", "\"12\"", "true", "null",
    ]

    @Test func sessionsOfNumbersAtTheLimitsAreArchivedAndAddedWithoutATrap() throws {
        let folder = try TemporaryDirectory()
        let writer = try folder.writer(at: folder.path("limits.db"))
        var state: UInt64 = 2026
        func next() -> String {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Self.literals[Int(state >> 33) % Self.literals.count]
        }
        for index in 0..<400 {
            let runs = (0..<(1 + index % 5)).map { run in
                #"{"type":"user_input","content":"q\#(run)"},{"type":"stop","usage":{"total_input_tokens":\#(next()),"#
                    + #""total_output_tokens":\#(next()),"turns":\#(next()),"duration_ms":\#(next())}}"#
            }
            let text = #"{"session_id":"p-\#(index % 150)","last_updated_at":"2026-12-07T10:\#(10 + index % 40):00.\#(index)Z","#
                + #""job_metadata":{"total_input_tokens":\#(next()),"duration_ms":\#(next())},"events":[\#(runs.joined(separator: ","))]}"#
            let session = try Normalizer.normalize(body: Array(text.utf8))
            _ = try writer.save(session, projectID: index % 3 == 0 ? "p" : nil, organizationID: nil, syncedAt: "2026-12-07T11:00:00.000000Z")
            let exported = try #require(try writer.reader.sessionJSON(sessionID: session.sessionID))
            #expect(try JSONParser.parse(exported).serialized.sameBytes(as: try JSONParser.parse(text).serialized))
        }
        for grouping in TokensReport.Grouping.allCases {
            _ = try writer.reader.tokens(TokensReport(grouping: grouping, window: .unbounded))
        }
        _ = try writer.reader.tools(ToolsReport(window: .unbounded))
        #expect(try writer.reader.keptTotalsProblems() == [])
    }
}
