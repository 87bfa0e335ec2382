/// FNV-1a, 64 bits, over the bytes a session arrived as: a stable fingerprint
/// (unlike Swift's seeded `Hasher`) that lets an unchanged record be skipped unparsed.
public enum SourceHash {
    public static func of(_ bytes: some Sequence<UInt8>) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return Int64(bitPattern: hash)
    }
}
