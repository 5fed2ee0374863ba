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
            let b = withUnsafeBytes(of: v4) { Array($0) }
            self = .v4(b[0], b[1], b[2], b[3])
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
        switch self {
        case let .v4(a, b, c, d):
            return DNSName(validated: ["\(d)", "\(c)", "\(b)", "\(a)", "in-addr", "arpa"])
        case .v6(let bytes):
            let hex = Array("0123456789abcdef")
            var labels: [String] = []
            for byte in bytes.reversed() {
                labels.append(String(hex[Int(byte & 0x0F)]))
                labels.append(String(hex[Int(byte >> 4)]))
            }
            return DNSName(validated: labels + ["ip6", "arpa"])
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.isV4 != rhs.isV4 { return lhs.isV4 }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

extension String {
    fileprivate func replacingDots() -> String { String(map { $0 == "." ? "-" : $0 }) }
}
