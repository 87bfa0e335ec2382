@_spi(Testing) @testable import ArchiveCore
import Testing

@Suite struct SourceHashTests {
    static let key = SourceHash.Key(Array(0...15))!
    static func message(_ length: Int) -> [UInt8] { (0..<length).map { UInt8($0) } }

    @Test func matchesTheReferenceVectors() {
        // SipHash-2-4 reference vectors (key 00..0f, message 00..len-1).
        let vectors64: [UInt64] = [0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
                                   0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
                                   0x93f5f5799a932462]
        for (length, expected) in vectors64.enumerated() {
            #expect(Self.message(length).withUnsafeBytes { SipHash.hash64($0, key: Self.key) } == expected, "length \(length)")
        }
        // The 128-bit output for the empty message, as bytes.
        #expect(SourceHash.of([UInt8](), key: Self.key).bytes ==
                [0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93])
    }

    @Test func isStableAcrossRunsAndSeesEveryByte() {
        let line = Array(#"{"session_id":"ses-1","events":[]}"#.utf8)
        #expect(SourceHash.of(line, key: Self.key) == SourceHash.of(line[...], key: Self.key))
        var changed = line
        for index in changed.indices {
            changed[index] ^= 1
            #expect(SourceHash.of(changed, key: Self.key) != SourceHash.of(line, key: Self.key), "byte \(index) did not change the hash")
            changed[index] ^= 1
        }
    }

    @Test func theKeyDecidesAndBytesRoundTrip() {
        let other = SourceHash.Key(Array(repeating: 7, count: 16))!
        let text = Array(#"{"session_id":"a"}"#.utf8)
        let hash = SourceHash.of(text, key: Self.key)
        #expect(hash != SourceHash.of(text, key: other))
        #expect(SourceHash(bytes: hash.bytes) == hash)
    }
}
