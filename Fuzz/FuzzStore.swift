// libFuzzer target for normalise → store → export, compiled against the
// ArchiveCore module by scripts/fuzz: any session the normaliser takes is
// saved in a real archive file, and its export must equal the input as
// ordered JSON (members in order, number literals as written, text byte for
// byte), and the archive's rollups and counts must equal its rows.
@_spi(Testing) import ArchiveCore  // a writer of its own for the whole run: the fuzzer is the only process
import Foundation
import LosslessJSON

nonisolated(unsafe) let fuzzStoreArchive: ArchiveWriter = {
    let folder = ProcessInfo.processInfo.environment["FUZZ_ARCHIVE_DIR"] ?? NSTemporaryDirectory()
    let path = (folder as NSString).appendingPathComponent("fuzz-store-\(getpid()).db")
    for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
    return try! ArchiveWriter(path: path)  // open for the whole run: the process ends it
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStore(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let session = try? Normalizer.normalize(body: bytes), let sent = try? JSONParser.parse(bytes).serialized else { return 0 }
    do {
        try fuzzStoreArchive.save(session, projectID: nil, organizationID: nil, syncedAt: "2026-01-01T00:00:00.000000Z")
    } catch {
        return 0  // refused whole (too many events, say): nothing half written to compare
    }
    guard let exported = try? fuzzStoreArchive.reader.sessionJSON(sessionID: session.sessionID) else {
        fatalError("a saved session cannot be exported: \(sent.debugDescription)")
    }
    guard let again = try? JSONParser.parse(exported).serialized, again.sameBytes(as: sent) else {
        fatalError("export differs from the input:\n sent     \(sent.debugDescription)\n exported \(exported.debugDescription)")
    }
    // As `status --check` would: the rollups and counts still equal their rows
    // (every 2,000th input: the recomputation reads the whole archive).
    fuzzStoreInputs += 1
    if fuzzStoreInputs % 2_000 == 0 {
        let problems = (try? fuzzStoreArchive.reader.keptTotalsProblems()) ?? ["the check itself failed"]
        if !problems.isEmpty { fatalError("after \(sent.debugDescription): \(problems.joined(separator: "; "))") }
    }
    return 0
}

nonisolated(unsafe) var fuzzStoreInputs = 0
