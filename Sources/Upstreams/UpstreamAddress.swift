import DNSModel
import DataPlane
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `ip`, `ip:port`, `[ipv6]` or `[ipv6]:port`, as kube-dns's flags and
/// ConfigMap write upstreams; the port is 53 unless given.
public enum UpstreamAddress {
    /// `anyPort`: port 0 is allowed (an address to listen on, the kernel
    /// choosing the port).
    public static func parse(_ text: String, anyPort: Bool = false) throws(UpstreamError) -> Forwarding.Upstream {
        let least: UInt16 = anyPort ? 0 : 1
        let text = text.trimmingCharacters(in: .whitespaces)
        var host = text
        var port: UInt16 = 53
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw UpstreamError("\(text.excerpt()) is not ip[:port]") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()), p >= least else {
                    throw UpstreamError("\(text.excerpt()) is not ip[:port]")
                }
                port = p
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = UInt16(text[text.index(after: colon)...]), p >= least else {
                throw UpstreamError("\(text.excerpt()) is not ip[:port]")
            }
            port = p
        }
        guard isAddress(host) else { throw UpstreamError("\(text.excerpt()) is not ip[:port]: \(host.excerpt()) is not an IP address") }
        return Forwarding.Upstream(host: host, port: port)
    }

    /// A stub domain's server: as `parse`, or a host name with an optional
    /// port (`dns.corp.example:5353`), as kube-dns accepted them (a DNS-1123
    /// subdomain); the name is resolved later (StubNameResolver).
    public static func parseStub(_ text: String) throws(UpstreamError) -> Forwarding.Upstream {
        if let address = try? parse(text) { return address }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var host = Substring(trimmed)
        var port: UInt16 = 53
        if let colon = trimmed.lastIndex(of: ":") {
            guard let p = UInt16(trimmed[trimmed.index(after: colon)...]), p >= 1 else {
                throw UpstreamError("\(trimmed.excerpt()) is not ip[:port] or host[:port]")
            }
            host = trimmed[..<colon]
            port = p
        }
        if host.hasSuffix(".") { host = host.dropLast() }
        guard isDNS1123Subdomain(host) else {
            throw UpstreamError("\(trimmed.excerpt()) is not ip[:port] or host[:port] (a DNS-1123 host name)")
        }
        return Forwarding.Upstream(host: host.lowercased(), port: port)
    }

    /// RFC 1123 names as Kubernetes checks them: at most 253 characters,
    /// dot-separated labels of letters, digits and inner hyphens, at most 63
    /// each; and not all-numeric at the end (RFC 3696 section 2), so that a
    /// mistyped address (`1.2.3.4.5`) is not taken for a name.
    static func isDNS1123Subdomain(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard let last = labels.last, !last.allSatisfy(\.isNumber) else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// Parses a comma-separated list, as `--nameservers` takes it.
    public static func parseList(_ text: String) throws(UpstreamError) -> [Forwarding.Upstream] {
        var upstreams: [Forwarding.Upstream] = []
        for item in text.split(separator: ",") where !item.trimmingCharacters(in: .whitespaces).isEmpty {
            upstreams.append(try parse(String(item)))
        }
        return upstreams
    }

    public static func isAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// A configuration problem, said in one line.
public struct UpstreamError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
