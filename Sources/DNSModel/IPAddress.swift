#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address, as Kubernetes objects carry them in text.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(UInt8, UInt8, UInt8, UInt8)
    case v6([UInt8])

    /// Parses an address literal; nil when the text is not one.
    public init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = withUnsafeBytes(of: v4) { .v4($0[0], $0[1], $0[2], $0[3]) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: v6) { Array($0) })
        } else {
            return nil
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case let .v4(a, b, c, d): [a, b, c, d]
        case .v6(let bytes): bytes
        }
    }

    public var isV4: Bool {
        if case .v4 = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .v4(a, b, c, d):
            return "\(a).\(b).\(c).\(d)"
        case .v6(let bytes):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The address as one DNS label, as CoreDNS names endpoints without a
    /// hostname: `10-1-2-3`, `fd00--1` (a trailing `-` gets a `0`).
    public var dashed: String {
        switch self {
        case .v4: return description.replacingDots()
        case .v6:
            let text = String(description.map { $0 == ":" ? "-" : $0 })
            return text.hasSuffix("-") ? text + "0" : text
        }
    }

    /// The reverse-mapping name: `d.c.b.a.in-addr.arpa.` (RFC 1035 §3.5) or
    /// 32 nibbles under `ip6.arpa.` (RFC 3596 §2.5).
    public var reverseName: DNSName {
        // Written as wire bytes: a large cluster has hundreds of thousands.
        var wire: [UInt8] = []
        switch self {
        case let .v4(a, b, c, d):
            wire.reserveCapacity(16 + Self.inAddrArpa.count)
            Self.appendLabel(of: d, to: &wire)
            Self.appendLabel(of: c, to: &wire)
            Self.appendLabel(of: b, to: &wire)
            Self.appendLabel(of: a, to: &wire)
            wire += Self.inAddrArpa
        case .v6(let bytes):
            wire.reserveCapacity(64 + Self.ip6Arpa.count)
            // One label per nibble, the low nibble of the last byte first.
            for byte in bytes.reversed() {
                wire.append(1)
                wire.append(Self.hexDigits[Int(byte & 0x0F)])
                wire.append(1)
                wire.append(Self.hexDigits[Int(byte >> 4)])
            }
            wire += Self.ip6Arpa
        }
        return DNSName(wire: wire)
    }

    /// An octet as a label of its decimal digits.
    private static func appendLabel(of octet: UInt8, to wire: inout [UInt8]) {
        let zero = UInt8(ascii: "0")
        wire.append(octet >= 100 ? 3 : octet >= 10 ? 2 : 1)
        if octet >= 100 { wire.append(zero + octet / 100) }
        if octet >= 10 { wire.append(zero + octet / 10 % 10) }
        wire.append(zero + octet % 10)
    }

    /// The address whose `reverseName` is `name`; nil for any other name.
    /// Reads the wire form in place: large clusters parse hundreds of
    /// thousands of these.
    public init?(reverseName name: DNSName) {
        let wire = name.wire
        if wire.count <= 30, wire.count >= Self.inAddrArpa.count + 8, wire.suffix(Self.inAddrArpa.count).elementsEqual(Self.inAddrArpa) {
            var octets: UInt32 = 0
            var pos = 0
            for index in 0..<4 {
                let length = Int(wire[pos])
                guard (1...3).contains(length), pos + length < wire.count else { return nil }
                let digits = wire[(pos + 1)...(pos + length)]
                guard digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                    digits.first != UInt8(ascii: "0") || length == 1
                else { return nil }
                let value = digits.reduce(0) { $0 * 10 + UInt32($1 - UInt8(ascii: "0")) }
                guard value <= 255 else { return nil }
                octets |= value << (8 * UInt32(index))
                pos += 1 + length
            }
            guard pos == wire.count - Self.inAddrArpa.count else { return nil }
            // The first label is the last octet.
            self = .v4(UInt8(octets >> 24), UInt8(octets >> 16 & 0xFF), UInt8(octets >> 8 & 0xFF), UInt8(octets & 0xFF))
        } else if wire.count == 64 + Self.ip6Arpa.count, wire.suffix(Self.ip6Arpa.count).elementsEqual(Self.ip6Arpa) {
            var bytes = [UInt8](repeating: 0, count: 16)
            for index in 0..<32 {
                guard wire[2 * index] == 1, let nibble = Self.hexDigits.firstIndex(of: wire[2 * index + 1]) else { return nil }
                // The first label is the low nibble of the last byte.
                bytes[15 - index / 2] |= UInt8(nibble) << (index % 2 == 0 ? 0 : 4)
            }
            self = .v6(bytes)
        } else {
            return nil
        }
    }

    private static let inAddrArpa = DNSName(validated: ["in-addr", "arpa"]).wire
    private static let ip6Arpa = DNSName(validated: ["ip6", "arpa"]).wire
    private static let hexDigits = Array("0123456789abcdef".utf8)

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.isV4 != rhs.isV4 { return lhs.isV4 }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

extension String {
    fileprivate func replacingDots() -> String { String(map { $0 == "." ? "-" : $0 }) }
}
