@_spi(Testing) @testable import ArchiveCore
import Foundation
import TestSupport
import Testing

/// The pieces of a dataset file: SHA-256 and the gzip writer over zlib.
@Suite struct DatasetFileTests {
    func sha256(_ text: String, inPiecesOf size: Int = 1 << 20) -> String {
        var digest = SHA256()
        let bytes = Array(text.utf8)
        var offset = 0
        repeat {
            digest.update(bytes[offset..<min(offset + size, bytes.count)])
            offset += size
        } while offset < bytes.count
        return digest.hexDigest()
    }

    @Test func sha256MatchesTheStandardVectorsInAnyPieces() {
        #expect(sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(sha256(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        for size in [1, 3, 63, 64, 65] { #expect(sha256(long, inPiecesOf: size) == sha256(long)) }
        #expect(sha256(String(repeating: "a", count: 1_000_000), inPiecesOf: 4093)
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func aGzipFileIsReadBackByGzipAndItsDigestIsTheFiles() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("rows.jsonl.gz")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let writer = try GzipFileWriter(path: path)
        var expected = ""
        for n in 0..<20_000 {
            let line = "{\"n\":\(n),\"text\":\"row \(n) of many, with words that repeat\"}\n"
            expected += line
            try writer.write(Array(line.utf8))
        }
        let (bytes, digest) = try writer.finish()
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(file.count == bytes && bytes < expected.utf8.count / 4)
        var whole = SHA256()
        whole.update(Array(file)[...])
        #expect(whole.hexDigest() == digest)
        let (out, status) = try gunzip(path)
        #expect(status == 0 && String(decoding: out, as: UTF8.self) == expected)
    }
}
