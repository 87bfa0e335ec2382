// libFuzzer target for archive files from elsewhere, compiled against
// ArchiveCore by scripts/fuzz: a real archive (made once per run) is damaged
// as the input says (its bytes overwritten at chosen offsets: pages, the
// schema on page 1; or SQL run on it: a view, a trigger, a table, an index
// dropped), then merged into a scratch archive (`import OTHER.db`) and
// restored over another (`restore`). Each must be refused with an error or
// succeed, never crash or hang, and a refused one leaves its target's file
// byte for byte as it was.
@_spi(Testing) import ArchiveCore  // a writer of its own for the whole run: the fuzzer is the only process
import Foundation
import SQLiteCore

let fuzzArchiveFolder = ProcessInfo.processInfo.environment["FUZZ_ARCHIVE_DIR"] ?? NSTemporaryDirectory()
func fuzzArchivePath(_ name: String) -> String { (fuzzArchiveFolder as NSString).appendingPathComponent("fuzz-file-\(getpid())-\(name)") }

let fuzzArchiveBase: [UInt8] = {
    let path = fuzzArchivePath("base.db")
    let writer = try! ArchiveWriter(path: path)
    for index in 0..<30 {
        let text = #"{"session_id":"f-\#(index)","last_updated_at":"2026-0\#(index % 9 + 1)-01T10:00:00Z","events":[{"type":"user_input","content":"word \#(index)"},"#
            + #"{"type":"tool_call","call_id":"c","name":"t","arguments":{"q":\#(index)}},{"type":"tool_result","call_id":"c","result":"ok"},"#
            + #"{"type":"stop","usage":{"total_input_tokens":\#(index * 100),"total_output_tokens":\#(index)}}]}"#
        _ = try! writer.save(try! Normalizer.normalize(body: Array(text.utf8)), projectID: nil, organizationID: nil,
                             syncedAt: "2026-12-01T00:00:00.000000Z")
    }
    try! writer.close()  // the last close checkpoints: the file alone is the archive
    return Array(try! Data(contentsOf: URL(fileURLWithPath: path)))
}()

let fuzzArchiveStatements = [
    "CREATE TRIGGER t AFTER UPDATE ON sessions BEGIN DELETE FROM sessions; END",
    "CREATE VIEW v AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT i FROM n",
    "CREATE TABLE extra(x)", "DROP INDEX sessions_by_updated", "ALTER TABLE sessions ADD COLUMN x",
    "DELETE FROM usage_rows", "UPDATE sessions SET input_tokens = 9223372036854775807", "DELETE FROM schema_migrations WHERE version > 10",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchiveFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    var file = fuzzArchiveBase
    // Input: pairs of (offset in 3 bytes, byte), the first byte's low bits choosing SQL to run first.
    let other = fuzzArchivePath("other.db")
    for suffix in ["", "-wal", "-shm"] { unlink(other + suffix) }
    _ = FileManager.default.createFile(atPath: other, contents: Data(file))
    if let first = input.first, first & 0x80 != 0 {
        let statement = fuzzArchiveStatements[Int(first) % fuzzArchiveStatements.count]
        if let database = try? Database(path: other, mode: .readWrite) {
            try? database.executeScript(statement + "; PRAGMA wal_checkpoint(TRUNCATE);")
            try? database.close()
        }
        file = Array((try? Data(contentsOf: URL(fileURLWithPath: other))) ?? Data(file))
    }
    var index = 1
    while index + 3 < input.count {
        let offset = (Int(input[index]) << 16 | Int(input[index + 1]) << 8 | Int(input[index + 2])) % file.count
        file[offset] = input[index + 3]
        index += 4
    }
    _ = FileManager.default.createFile(atPath: other, contents: Data(file))
    for name in ["merge.db", "restore.db"] {
        let target = fuzzArchivePath(name)
        for suffix in ["", "-wal", "-shm", ".lock"] { unlink(target + suffix) }
        _ = FileManager.default.createFile(atPath: target, contents: Data(fuzzArchiveBase))
        let before = fuzzArchiveBase
        guard let writer = try? ArchiveWriter(path: target) else { fatalError("the base archive does not open") }
        let refused: Bool
        if name == "merge.db" {
            refused = (try? ArchiveMerge(store: writer, onFailure: { _ in }).merge(other)) == nil
        } else {
            refused = (try? writer.restore(from: other)) == nil
        }
        try? writer.close()
        if refused, let after = try? Data(contentsOf: URL(fileURLWithPath: target)), Array(after) != before {
            fatalError("a refused \(name == "merge.db" ? "merge" : "restore") changed its target")
        }
    }
    return 0
}
