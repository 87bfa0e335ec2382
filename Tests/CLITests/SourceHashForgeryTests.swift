import TestSupport
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// The unchanged-record shortcut of `import` cannot be fooled by a record
/// crafted to collide: the 64-bit hash it once used could be inverted.
@Suite struct SourceHashForgeryTests {
    /// The hash the archive used before schema 4 (FNV-1a over 8-byte words).
    static func oldHash(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = 0
        while index + 8 <= bytes.count {
            hash ^= bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index, as: UInt64.self).littleEndian }
            hash &*= prime
            hash ^= hash >> 29
            index += 8
        }
        while index < bytes.count {
            hash ^= UInt64(bytes[index])
            hash &*= prime
            index += 1
        }
        return hash
    }

    static let prime: UInt64 = 0x0000_0100_0000_01B3
    static let primeInverse: UInt64 = {  // Newton's iteration for the inverse modulo 2^64
        var inverse: UInt64 = prime
        for _ in 0..<6 { inverse = inverse &* (2 &- prime &* inverse) }
        return inverse
    }()

    static func unmix(_ value: UInt64) -> UInt64 { value ^ (value >> 29) ^ (value >> 58) }

    /// A changed session whose old hash equals `target`'s: a counter in the
    /// title is tried until the 8 bytes that close the collision are plain text.
    static func forge(colliding target: [UInt8], id: String) -> [UInt8]? {
        let goal = oldHash(target)
        for attempt in 0..<200_000 {
            var prefix = Array(#"{"session_id":"\#(id)","last_updated_at":"2026-05-03T00:00:00Z","generated_title":"forged \#(attempt)","events":[],"pad":""#.utf8)
            while prefix.count % 8 != 0 { prefix.insert(0x20, at: 1) }
            let tail = Array(#""}"#.utf8)
            var state = goal
            for byte in tail.reversed() { state = (state &* primeInverse) ^ UInt64(byte) }
            let word = (unmix(state) &* primeInverse) ^ oldHash(prefix)
            let free = withUnsafeBytes(of: word.littleEndian) { Array($0) }
            guard free.allSatisfy({ (0x20...0x7E).contains($0) && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else { continue }
            return prefix + free + tail
        }
        return nil
    }

    @Test func aRecordForgedToCollideIsImportedNotSkipped() async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("a.db")
        let original = Array(#"{"session_id":"ses-x","last_updated_at":"2026-05-02T00:00:00Z","generated_title":"real","events":[]}"#.utf8)
        let forged = try #require(Self.forge(colliding: original, id: "ses-x"))
        #expect(Self.oldHash(forged) == Self.oldHash(original), "the forgery works against the old hash")
        #expect(try JSONParser.parse(forged)["session_id"] == "ses-x")
        let first = folder.path("original.jsonl"), second = folder.path("forged.jsonl")
        try Data(original).write(to: URL(fileURLWithPath: first))
        try Data(forged).write(to: URL(fileURLWithPath: second))
        _ = try await ArchiveProcess.run(["import", "--db", db, first])
        let result = try await ArchiveProcess.run(["import", "--db", db, second])
        #expect(result.stdout.hasPrefix("imported: 0 new, 1 updated, 0 unchanged"), "\(result.stdout)")
        let title = try Database(path: db, mode: .readOnly).scalar("SELECT title FROM sessions", as: String.self)
        #expect(title?.hasPrefix("forged ") == true)
    }
}
