import Foundation

/// The fingerprint of the bytes a session arrived as, which lets an import
/// skip a record it already holds without parsing it: SipHash-2-4 with
/// 128-bit output, keyed by a random key of the archive's own
/// (`archive_settings.source_hash_key`). Without the key nobody can craft a
/// changed record with the same fingerprint, and 128 bits leave chance
/// collisions out of reach.
public struct SourceHash: Hashable, Sendable {
    public let high: UInt64
    public let low: UInt64

    /// The 16 bytes stored in `sessions.source_hash`.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: low.littleEndian) { Array($0) } + withUnsafeBytes(of: high.littleEndian) { Array($0) }
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        low = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian }
        high = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian }
    }

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A key of 16 bytes.
    public struct Key: Sendable {
        let k0: UInt64, k1: UInt64

        public init?(_ bytes: [UInt8]) {
            guard bytes.count == 16 else { return nil }
            k0 = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian }
            k1 = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian }
        }
    }

    public static func of(_ bytes: some Collection<UInt8>, key: Key) -> SourceHash {
        let hashed = bytes.withContiguousStorageIfAvailable { buffer in
            SipHash.hash128(UnsafeRawBufferPointer(buffer), key: key)
        }
        return hashed ?? Array(bytes).withUnsafeBytes { SipHash.hash128($0, key: key) }
    }
}

/// SipHash-2-4 (Aumasson and Bernstein), 64- and 128-bit outputs.
enum SipHash {
    struct State {
        var v0, v1, v2, v3: UInt64

        init(key: SourceHash.Key, wide: Bool) {
            v0 = key.k0 ^ 0x736f_6d65_7073_6575
            v1 = key.k1 ^ 0x646f_7261_6e64_6f6d ^ (wide ? 0xee : 0)
            v2 = key.k0 ^ 0x6c79_6765_6e65_7261
            v3 = key.k1 ^ 0x7465_6462_7974_6573
        }

        @inline(__always) mutating func round() {
            v0 &+= v1; v1 = v1.rotatedLeft(13); v1 ^= v0; v0 = v0.rotatedLeft(32)
            v2 &+= v3; v3 = v3.rotatedLeft(16); v3 ^= v2
            v0 &+= v3; v3 = v3.rotatedLeft(21); v3 ^= v0
            v2 &+= v1; v1 = v1.rotatedLeft(17); v1 ^= v2; v2 = v2.rotatedLeft(32)
        }

        @inline(__always) mutating func absorb(_ word: UInt64) {
            v3 ^= word
            round(); round()
            v0 ^= word
        }

        mutating func absorb(_ buffer: UnsafeRawBufferPointer) {
            var index = 0
            while index + 8 <= buffer.count {
                absorb(buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self).littleEndian)
                index += 8
            }
            var last = UInt64(truncatingIfNeeded: buffer.count) << 56
            var shift: UInt64 = 0
            while index < buffer.count {
                last |= UInt64(buffer[index]) << shift
                shift += 8
                index += 1
            }
            absorb(last)
        }

        mutating func squeeze(_ marker: UInt64) -> UInt64 {
            v2 ^= marker
            round(); round(); round(); round()
            return v0 ^ v1 ^ v2 ^ v3
        }
    }

    static func hash64(_ buffer: UnsafeRawBufferPointer, key: SourceHash.Key) -> UInt64 {
        var state = State(key: key, wide: false)
        state.absorb(buffer)
        return state.squeeze(0xff)
    }

    static func hash128(_ buffer: UnsafeRawBufferPointer, key: SourceHash.Key) -> SourceHash {
        var state = State(key: key, wide: true)
        state.absorb(buffer)
        let low = state.squeeze(0xee)
        state.v1 ^= 0xdd
        state.round(); state.round(); state.round(); state.round()
        return SourceHash(high: state.v0 ^ state.v1 ^ state.v2 ^ state.v3, low: low)
    }
}

extension UInt64 {
    @inline(__always) func rotatedLeft(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}
