/// A stable 64-bit fingerprint of the bytes a session arrived as (unlike
/// Swift's seeded `Hasher`), which lets an unchanged record be skipped
/// unparsed. FNV-1a's step taken eight bytes at a time, with a shift to mix
/// the high bits down; the tail byte by byte.
public enum SourceHash {
    public static func of(_ bytes: some Collection<UInt8>) -> Int64 {
        let hashed: Int64? = bytes.withContiguousStorageIfAvailable { buffer in
            of(UnsafeRawBufferPointer(buffer))
        }
        return hashed ?? Array(bytes).withUnsafeBytes { of($0) }
    }

    public static func of(_ buffer: UnsafeRawBufferPointer) -> Int64 {
        let prime: UInt64 = 0x0000_0100_0000_01B3
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = 0
        while index + 8 <= buffer.count {
            hash ^= buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self).littleEndian
            hash &*= prime
            hash ^= hash >> 29
            index += 8
        }
        while index < buffer.count {
            hash ^= UInt64(buffer[index])
            hash &*= prime
            index += 1
        }
        return Int64(bitPattern: hash)
    }
}
