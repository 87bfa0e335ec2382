// libFuzzer target for numbers from outside, compiled against ArchiveCore by
// scripts/fuzz: the input picks, byte by byte, which number of a real session
// (tokens, turns, durations of its runs and of its job metadata) becomes
// which value near a limit (0, -1, ±2^31, ±2^53, ±2^63, 2^64, 1e308, NaN
// spelled as a string, huge exponents, 20-digit literals). Each session is
// normalised and saved in a real archive file; every report runs over it;
// its export gives every literal back; every 500th input `status --check`'s
// recomputation must agree. None of it may trap.
@_spi(Testing) import ArchiveCore  // a writer of its own for the whole run: the fuzzer is the only process
import Foundation
import LosslessJSON

let fuzzNumberLiterals = [
    "0", "-1", "1", "2147483647", "-2147483648", "2147483648", "9007199254740991", "9007199254740992", "-9007199254740993",
    "4611686018427387904", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551616",
    "1e308", "-1e308", "1e309", "1E400", "4.9e-324", "0.5", "-0.0", "1e3", "12345678901234567890", "99999999999999999999",
    "\"NaN\"", "\"Infinity\"", "\"12\"", "true", "null", "[]", "{}",
]

nonisolated(unsafe) let fuzzNumbersArchive: ArchiveWriter = {
    let folder = ProcessInfo.processInfo.environment["FUZZ_ARCHIVE_DIR"] ?? NSTemporaryDirectory()
    let path = (folder as NSString).appendingPathComponent("fuzz-numbers-\(getpid()).db")
    for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
    return try! ArchiveWriter(path: path)
}()
nonisolated(unsafe) var fuzzNumbersInputs = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNumbers(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var choices = Array(UnsafeBufferPointer(start: data, count: size)).makeIterator()
    func next() -> String { fuzzNumberLiterals[Int(choices.next() ?? 0) % fuzzNumberLiterals.count] }
    fuzzNumbersInputs += 1
    let runs = (0..<max(1, min(8, size / 4))).map { run in
        #"{"type":"user_input","content":"q\#(run)"},{"type":"tool_call","call_id":"c\#(run)","name":"t","arguments":{"n":\#(next())}},"#
            + #"{"type":"tool_result","call_id":"c\#(run)","result":"ok"},"#
            + #"{"type":"stop","is_error":false,"usage":{"total_input_tokens":\#(next()),"total_output_tokens":\#(next()),"turns":\#(next()),"duration_ms":\#(next())}}"#
    }
    let minute = 10 + fuzzNumbersInputs % 40
    let text = #"{"session_id":"n-\#(fuzzNumbersInputs % 300)","last_updated_at":"2026-12-07T10:\#(minute):00.\#(fuzzNumbersInputs % 1_000_000)Z","#
        + #""job_metadata":{"total_input_tokens":\#(next()),"duration_ms":\#(next()),"turns":\#(next())},"#
        + #""events":[\#(runs.joined(separator: ","))]}"#
    let bytes = Array(text.utf8)
    guard let sent = try? JSONParser.parse(bytes).serialized else { return 0 }
    let session: NormalizedSession
    do { session = try Normalizer.normalize(body: bytes) } catch { fatalError("a session refused for its numbers: \(error)\n\(text)") }
    do {
        try fuzzNumbersArchive.save(session, projectID: nil, organizationID: nil, syncedAt: "2026-12-07T11:00:00.000000Z")
    } catch {
        fatalError("saving failed: \(error)\n\(text)")
    }
    let reader = fuzzNumbersArchive.reader
    guard let exported = try? reader.sessionJSON(sessionID: session.sessionID),
          let again = try? JSONParser.parse(exported).serialized, again.sameBytes(as: sent) else {
        fatalError("export differs from the input:\n\(text)")
    }
    do {
        for grouping in TokensReport.Grouping.allCases {
            _ = try reader.tokens(TokensReport(grouping: grouping, window: .unbounded))
        }
        _ = try reader.tools(ToolsReport(window: .unbounded))
        _ = try reader.totals()
    } catch {
        fatalError("a report failed: \(error)\n\(text)")
    }
    if fuzzNumbersInputs % 500 == 0 {
        let problems = (try? reader.keptTotalsProblems()) ?? ["the check itself failed"]
        if !problems.isEmpty { fatalError("after \(text): \(problems.joined(separator: "; "))") }
    }
    return 0
}
