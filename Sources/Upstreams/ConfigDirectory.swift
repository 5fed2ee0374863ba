import DNSModel
import DataPlane
import Foundation

/// The kube-dns ConfigMap as files (mounted at `--config-dir`): `stubDomains`,
/// a JSON object of domain to a list of `ip[:port]` or `host[:port]`, and
/// `upstreamNameservers`, a JSON list of at most three `ip[:port]`.
/// A missing file means its default; a missing directory means defaults.
public struct ConfigDirectory: Equatable, Sendable {
    public var stubDomains: [(domain: DNSName, upstreams: [Forwarding.Upstream])]
    public var upstreamNameservers: [Forwarding.Upstream]?

    public init(stubDomains: [(domain: DNSName, upstreams: [Forwarding.Upstream])] = [], upstreamNameservers: [Forwarding.Upstream]? = nil)
    {
        self.stubDomains = stubDomains
        self.upstreamNameservers = upstreamNameservers
    }

    public static func == (lhs: ConfigDirectory, rhs: ConfigDirectory) -> Bool {
        lhs.upstreamNameservers == rhs.upstreamNameservers
            && lhs.stubDomains.map(\.domain) == rhs.stubDomains.map(\.domain)
            && lhs.stubDomains.map(\.upstreams) == rhs.stubDomains.map(\.upstreams)
    }

    /// The stub-domain servers given by host name, to be resolved.
    public var stubServerNames: Set<DNSName> {
        Set(stubDomains.flatMap(\.upstreams).compactMap { UpstreamAddress.isAddress($0.host) ? nil : try? DNSName($0.host) })
    }

    /// kube-dns's limit on `upstreamNameservers` (as resolv.conf's MAXNS).
    public static let maxUpstreamNameservers = 3

    /// Reads the directory; an invalid file is an error naming it.
    public static func read(_ directory: String) throws(UpstreamError) -> ConfigDirectory {
        var config = ConfigDirectory()
        if let text = try readFile(directory, "stubDomains") {
            config.stubDomains = try parseStubDomains(text)
        }
        if let text = try readFile(directory, "upstreamNameservers") {
            config.upstreamNameservers = try parseUpstreamNameservers(text)
        }
        return config
    }

    private static func readFile(_ directory: String, _ name: String) throws(UpstreamError) -> String? {
        let path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UpstreamError("\(path): cannot be read")
        }
        let text = String(decoding: data, as: UTF8.self)
        // An empty key in the ConfigMap is as good as none.
        return text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : text
    }

    public static func parseStubDomains(_ text: String) throws(UpstreamError) -> [(domain: DNSName, upstreams: [Forwarding.Upstream])] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw UpstreamError("stubDomains: not a JSON object of domain to a list of ip[:port]")
        }
        var stubs: [(domain: DNSName, upstreams: [Forwarding.Upstream])] = []
        for (fullKey, value) in object.sorted(by: { $0.key < $1.key }) {
            let key = fullKey.excerpt()
            guard let list = value as? [String], !list.isEmpty else {
                throw UpstreamError("stubDomains: \(key): not a non-empty list of ip[:port]")
            }
            guard list.count <= Forwarding.maxUpstreamsPerRoute else {
                throw UpstreamError("stubDomains: \(key): \(list.count) servers; at most \(Forwarding.maxUpstreamsPerRoute)")
            }
            let domain: DNSName
            do { domain = try DNSName(fullKey) } catch { throw UpstreamError("stubDomains: \(key): \(error)") }
            guard domain != .root else { throw UpstreamError("stubDomains: the root is not a stub domain") }
            var upstreams: [Forwarding.Upstream] = []
            for item in list {
                do { upstreams.append(try UpstreamAddress.parseStub(item)) } catch {
                    throw UpstreamError("stubDomains: \(key): \(error)")
                }
            }
            stubs.append((domain, upstreams))
        }
        return stubs
    }

    public static func parseUpstreamNameservers(_ text: String) throws(UpstreamError) -> [Forwarding.Upstream] {
        guard let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] else {
            throw UpstreamError("upstreamNameservers: not a JSON list of ip[:port]")
        }
        guard list.count <= maxUpstreamNameservers else {
            throw UpstreamError("upstreamNameservers: \(list.count) servers; at most \(maxUpstreamNameservers)")
        }
        var upstreams: [Forwarding.Upstream] = []
        for item in list {
            do { upstreams.append(try UpstreamAddress.parse(item)) } catch { throw UpstreamError("upstreamNameservers: \(error)") }
        }
        return upstreams
    }
}
