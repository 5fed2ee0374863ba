/// DNS queries in wire form, for tests that send raw packets.
public enum QueryPacket {
    /// A query for `name`/`type` (RFC 1035 §4.1), with an OPT record
    /// (RFC 6891) when `ednsSize` is given.
    public static func make(
        id: UInt16, name: String, type: UInt16, recursionDesired: Bool = true, ednsSize: UInt16? = nil,
        ednsVersion: UInt8 = 0, dnssecOK: Bool = false
    ) -> [UInt8] {
        var bytes: [UInt8] = [
            UInt8(id >> 8), UInt8(id & 0xFF), recursionDesired ? 0x01 : 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, ednsSize == nil ? 0 : 1,
        ]
        for label in name.split(separator: ".") {
            bytes.append(UInt8(label.utf8.count))
            bytes += label.utf8
        }
        bytes += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        if let ednsSize {
            bytes += [0, 0, 41, UInt8(ednsSize >> 8), UInt8(ednsSize & 0xFF), 0, ednsVersion, dnssecOK ? 0x80 : 0, 0, 0, 0]
        }
        return bytes
    }
}

/// A deterministic random source, so a failing fuzz case can be replayed.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    /// SplitMix64.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Malformed and odd packets made from valid queries: random bytes,
/// truncations, bit flips, overwritten counts.
public enum PacketMutator {
    public static func mutate(_ packet: [UInt8], using random: inout SeededRandom) -> [UInt8] {
        var bytes = packet
        switch random.next() % 6 {
        case 0:
            return (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case 1:
            return Array(bytes.prefix(Int(random.next() % UInt64(bytes.count))))
        case 2:
            for _ in 0...(random.next() % 4) {
                let at = Int(random.next() % UInt64(bytes.count))
                bytes[at] ^= UInt8(1 << (random.next() % 8))
            }
        case 3:
            let at = 4 + Int(random.next() % 8)
            bytes[at] = UInt8(truncatingIfNeeded: random.next())
        case 4:
            let at = 12 + Int(random.next() % UInt64(max(1, bytes.count - 12)))
            if at < bytes.count { bytes[at] = [0xC0, 0x3F, 0x40, 0x00, 0xFF][Int(random.next() % 5)] }
        default:
            bytes += (0..<Int(random.next() % 32)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        return bytes
    }
}
