import Foundation
import KubeAPISimulator
import Yams

/// The default Corefiles of the distributions (Fixtures/Corefiles), and
/// what running them here changes: addresses and ports only.
public enum FixtureCorefiles {
    /// The fixtures with a `kubernetes` plugin.
    public static let clusterNames = ["kubeadm", "kubeadm-1.20", "k3s", "eks", "aks", "rke2"]

    public static func text(_ name: String) throws -> String {
        try String(contentsOf: Fixtures.directory.appendingPathComponent("Corefiles/\(name)"), encoding: .utf8)
    }

    /// Where the adapted Corefile points instead of the cluster's addresses.
    public struct Addresses {
        /// The API server (`endpoint`, added to the kubernetes plugin: in a pod it is in-cluster).
        public var apiPort: Int?
        /// What resolv.conf's nameserver and the cluster DNS stand for.
        public var upstream: String
        public var clusterDNS: String?
        /// Files the Corefile names under /etc/coredns/.
        public var directory: String

        public init(apiPort: Int? = nil, upstream: String, clusterDNS: String? = nil, directory: String) {
            (self.apiPort, self.upstream, self.clusterDNS, self.directory) = (apiPort, upstream, clusterDNS, directory)
        }
    }

    /// `text` with its ports the kernel's choice on loopback, its
    /// addresses and files replaced; nothing else touched.
    public static func adapt(_ text: String, _ to: Addresses) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(line)
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            let indent = String(line.prefix { $0 == " " })
            switch words.first {
            case "health":
                line = indent + "health 127.0.0.1:0" + (line.hasSuffix("{") ? " {" : "")
            case "ready":
                line = indent + "ready 127.0.0.1:0"
            case "prometheus":
                line = indent + "prometheus 127.0.0.1:0"
            case "bind":
                line = indent + "bind 127.0.0.1 127.0.0.2"
            case "kubernetes" where to.apiPort != nil:
                line += "\n" + indent + "  endpoint http://127.0.0.1:\(to.apiPort!)"
            case "forward":
                let target = words.count > 2 && words[2] == "10.0.0.11" ? to.clusterDNS ?? to.upstream : to.upstream
                line = indent + "forward \(words[1]) \(target)" + (line.hasSuffix("{") ? " {" : "")
            default:
                if line.hasSuffix("{"), let key = words.first, key.hasSuffix(":53") {
                    line = indent + key.dropLast(3) + ":0 {"
                }
            }
            lines.append(line.replacingOccurrences(of: "/etc/coredns/", with: to.directory + "/"))
        }
        return lines.joined(separator: "\n")
    }

    /// Loads the fixture cluster (cluster.yaml) into the API simulator.
    public static func loadCluster(into simulator: KubeAPISimulator) throws {
        let text = try String(contentsOfFile: Fixtures.clusterPath, encoding: .utf8)
        let served: Set<String> = ["Namespace", "Service", "Endpoints", "EndpointSlice", "Pod"]
        for document in try Yams.load_all(yaml: text) {
            guard let list = document as? [String: Any] else { continue }
            let items = list["kind"] as? String == "List" ? (list["items"] as? [Any] ?? []) : [list]
            for case let item as [String: Any] in items where served.contains(item["kind"] as? String ?? "") {
                let data = try JSONSerialization.data(withJSONObject: item)
                _ = try simulator.apply(String(decoding: data, as: UTF8.self))
            }
        }
    }
}
