import Foundation
import RecordModel

/// The skydns layout kube2sky wrote into etcd (Kubernetes 1.2): a name's
/// labels reversed into a path under `/skydns`, one leaf per record, each a
/// JSON value whose leaf label is the FNV-1a 32-bit hash of that exact JSON
/// in lower-case hex (headless endpoints with a hostname use the hostname).
public enum SkyDNSLayout {
    public static let root = "/skydns"

    /// `kube-dns.kube-system.svc.cluster.local` → `/skydns/local/cluster/svc/kube-system/kube-dns`.
    public static func path(of name: DNSName) -> String {
        ([root] + name.labels.reversed()).joined(separator: "/")
    }

    /// The name a key's directory (the key without its leaf) stands for, or
    /// nil when the key is not under `/skydns`.
    public static func name(ofDirectory directory: String) -> DNSName? {
        guard directory.hasPrefix(root + "/") else { return nil }
        let labels = directory.dropFirst(root.count + 1).split(separator: "/").map(String.init)
        return try? DNSName(labels: labels.reversed())
    }

    /// A record's value as kube2sky wrote it, fields in its order
    /// (`port` only for SRV leaves).
    public static func value(host: String, port: Int? = nil, priority: Int = 10, weight: Int = 10, ttl: Int = 30) -> String {
        var json = #"{"host":"\#(escape(host))""#
        if let port { json += #","port":\#(port)"# }
        json += #","priority":\#(priority),"weight":\#(weight),"ttl":\#(ttl),"targetstrip":0}"#
        return json
    }

    /// The leaf label of a value: FNV-1a 32-bit of its bytes, lower-case hex.
    public static func leaf(of value: String) -> String {
        var hash: UInt32 = 0x811C_9DC5
        for byte in value.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        return String(hash, radix: 16)
    }

    /// The key of a value under a name: its path, then the value's hash.
    public static func key(of name: DNSName, value: String) -> String {
        path(of: name) + "/" + leaf(of: value)
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
