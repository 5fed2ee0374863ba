import DNSModel
import DataPlane

/// The `nameserver` lines of a resolv.conf (resolv.conf(5)): the default
/// upstreams when `--nameservers` is not given, as skydns took them.
public enum ResolvConf {
    public static let path = "/etc/resolv.conf"

    /// The first `Forwarding.maxUpstreamsPerRoute` (glibc itself reads 3).
    public static func nameservers(in text: String) -> [Forwarding.Upstream] {
        let all: [Forwarding.Upstream] = text.split(whereSeparator: \.isNewline).compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver" else { return nil }
            // A zone index (fe80::1%eth0) cannot be used as a socket address here.
            return try? UpstreamAddress.parse(String(words[1]))
        }
        return Array(all.prefix(Forwarding.maxUpstreamsPerRoute))
    }
}

extension ResolvConf {
    /// The `search` line's domains (the last such line wins, as in glibc); `domain` when there is none.
    public static func searchDomains(in text: String) -> [DNSName] {
        var domains: [DNSName] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = words.first, keyword == "search" || (keyword == "domain" && domains.isEmpty) else { continue }
            domains = words.dropFirst().compactMap { try? DNSName($0) }
        }
        return domains
    }
}
