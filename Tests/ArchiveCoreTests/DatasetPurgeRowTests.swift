import Foundation
import LosslessJSON
import Testing
@_spi(Testing) @testable import ArchiveCore

/// The dataset's purge reads only the first two members of each row to know
/// its session: ids from outside, with escapes, quotes and any script, must
/// come out as the whole row's parse gives them, byte for byte.
@Suite struct DatasetPurgeRowTests {
    @Test(arguments: ["plain", #"quo"te"#, #"back\slash"#, "new\nline", "tab\there", "caf\u{E9}", "cafe\u{301}", "\u{1F600}",
                      "\u{0}nul", #"\"#, #"ends with \"#, String(repeating: "x", count: 5000)])
    func aRowsSessionIsWhatTheWholeRowSays(_ id: String) throws {
        var row = JSONRow()
        row.add("session_id", id)
        row.add("source", #"eu "west""#)
        row.add("content", #"text with "session_id":"other" inside"#)
        var line = row.line()
        line.removeLast()  // the newline
        let session = try #require(DatasetPurge.session(ofRow: line))
        #expect(session.id == ExactText(id) && session.id.text.utf8.elementsEqual(id.utf8))
        #expect(session.source == ExactText(#"eu "west""#))
    }

    @Test func aRowOfAnotherShapeIsParsedWhole() throws {
        let line = Array(#"{"source":"default","session_id":"s-1","x":1}"#.utf8)
        let session = try #require(DatasetPurge.session(ofRow: line))
        #expect(session.id == "s-1" && session.source == "default")
        #expect(DatasetPurge.session(ofRow: Array("not json".utf8)) == nil)
        #expect(DatasetPurge.session(ofRow: Array(#"{"session_id":"s-1"}"#.utf8)) == nil)
    }
}
