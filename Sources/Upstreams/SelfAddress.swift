import DataPlane

#if canImport(Glibc)
    import Glibc
#endif

/// Whether an upstream is this server itself: same port, and the address
/// we are bound to, or (bound to a wildcard) a loopback or local interface
/// address. Forwarding there would send every query round in a loop.
public struct SelfAddress: Sendable {
    let port: UInt16
    let addresses: Set<[UInt8]>
    let wildcard: Bool

    /// `bindAddress`: one address, or several separated by commas (as the data plane takes them).
    public init(bindAddress: String, port: UInt16) {
        self.port = port
        let bound = bindAddress.split(separator: ",").map { Self.bytes(String($0)) ?? [] }
        wildcard = bound.contains { $0.allSatisfy { $0 == 0 } }
        addresses = wildcard ? Self.localAddresses() : Set(bound)
    }

    public func isSelf(_ upstream: Forwarding.Upstream) -> Bool {
        guard upstream.port == port, let bytes = Self.bytes(upstream.host) else { return false }
        if addresses.contains(bytes) { return true }
        guard wildcard else { return false }
        // 127.0.0.0/8 and ::1 reach a wildcard socket, as does the unspecified address.
        return (bytes.count == 4 && bytes[0] == 127) || bytes == Array(repeating: 0, count: 15) + [1]
            || bytes.allSatisfy { $0 == 0 }
    }

    static func bytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func localAddresses() -> Set<[UInt8]> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var addresses: Set<[UInt8]> = []
        var at = list
        while let entry = at {
            if let sa = entry.pointee.ifa_addr {
                if Int32(sa.pointee.sa_family) == AF_INET {
                    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                        var a = sin.pointee.sin_addr
                        addresses.insert(withUnsafeBytes(of: &a) { Array($0) })
                    }
                } else if Int32(sa.pointee.sa_family) == AF_INET6 {
                    sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                        var a = sin6.pointee.sin6_addr
                        addresses.insert(withUnsafeBytes(of: &a) { Array($0) })
                    }
                }
            }
            at = entry.pointee.ifa_next
        }
        return addresses
    }
}
