import DNSModel

/// A server block's key, `[SCHEME://]ZONE[:PORT]` (corefile(5)): the zone
/// it serves and the port, which is the `-dns.port` flag's (53 by default)
/// when it is not written. A zone may be written as an IP network in
/// CIDR notation, which stands for its reverse zones.
public struct ServerKey: Sendable, Hashable, CustomStringConvertible {
    public var zone: DNSName
    public var port: Int
    public var location: CorefileLocation

    /// Schemes CoreDNS has that this server does not speak.
    static let unsupportedSchemes = ["tls", "grpc", "https", "https3", "quic"]

    init(zone: DNSName, port: Int, at location: CorefileLocation) {
        self.zone = zone
        self.port = port
        self.location = location
    }

    /// The keys a key's text stands for: one, or one per reverse zone of
    /// a network that is not on a label boundary.
    static func parse(_ text: String, defaultPort: Int, at location: CorefileLocation) throws(CorefileError) -> [ServerKey] {
        var rest = Substring(text)
        if let scheme = rest.range(of: "://") {
            let name = rest[..<scheme.lowerBound].lowercased()
            if Self.unsupportedSchemes.contains(name) {
                throw CorefileError("\(text): the \(name):// scheme is not supported, only dns://", at: location)
            }
            guard name == "dns" else { throw CorefileError("\(text): unknown scheme \(name)://", at: location) }
            rest = rest[scheme.upperBound...]
        }
        var port = defaultPort
        // The port follows the last colon, unless the zone is an IPv6 network (which has colons of its own).
        if let colon = rest.lastIndex(of: ":"), !rest[..<colon].contains(":") {
            let digits = rest[rest.index(after: colon)...]
            // 0: a port of the kernel's choosing (scripts and tests read it back).
            guard let number = Int(digits), (0...65535).contains(number) else {
                throw CorefileError("\(text): bad port '\(digits)'", at: location)
            }
            port = number
            rest = rest[..<colon]
        }
        let zoneText = rest.isEmpty ? "." : String(rest)
        if zoneText.contains("/") {
            return try reverseZones(zoneText, at: location).map { ServerKey(zone: $0, port: port, at: location) }
        }
        do {
            return [ServerKey(zone: try DNSName(zoneText), port: port, at: location)]
        } catch {
            throw CorefileError("\(text): not a zone: \(error)", at: location)
        }
    }

    /// Keys are the same when their zone and port are.
    public static func == (a: ServerKey, b: ServerKey) -> Bool { a.zone == b.zone && a.port == b.port }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(zone)
        hasher.combine(port)
    }

    public var description: String { "dns://\(zone):\(port)" }

    /// The reverse zone of a network (`10.0.0.0/8` is `10.in-addr.arpa.`,
    /// RFC 1035 §3.5; `fd00::/16` is `0.0.d.f.ip6.arpa.`, RFC 3596 §2.5).
    /// A prefix between label boundaries stands for every zone below the
    /// next one, as CoreDNS expands it.
    static func reverseZones(_ text: String, at location: CorefileLocation) throws(CorefileError) -> [DNSName] {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), let address = IPAddress(String(parts[0])) else {
            throw CorefileError("\(text): not a network in CIDR notation", at: location)
        }
        let bytes = address.bytes
        let bits = address.isV4 ? 8 : 4
        guard (0...(bytes.count * 8)).contains(prefix) else { throw CorefileError("\(text): bad prefix length", at: location) }
        // The address's digits (octets or nibbles), most significant first.
        let digits: [Int] = address.isV4 ? bytes.map(Int.init) : bytes.flatMap { [Int($0 >> 4), Int($0 & 15)] }
        let kept = (prefix + bits - 1) / bits
        let spare = kept * bits - prefix
        let suffix = address.isV4 ? "in-addr.arpa" : "ip6.arpa"
        var zones: [DNSName] = []
        for extra in 0..<(1 << spare) {
            var zoneDigits = Array(digits.prefix(kept))
            if kept > 0 { zoneDigits[kept - 1] = (zoneDigits[kept - 1] & ~((1 << spare) - 1)) | extra }
            let labels = zoneDigits.reversed().map { address.isV4 ? String($0) : String($0, radix: 16) }
            zones.append(try! DNSName((labels + [suffix]).joined(separator: ".")))
        }
        return zones
    }
}
