import DNSModel

/// `kubernetes [ZONES...] { ... }` (coredns.io/plugins/kubernetes): the
/// cluster's records, from the API. Zones default to the server block's.
public struct KubernetesPlugin: Sendable, Equatable {
    public enum Pods: String, Sendable, CaseIterable { case disabled, insecure, verified }

    public struct TLSFiles: Sendable, Equatable {
        public var cert, key, caCert: String

        public init(cert: String, key: String, caCert: String) {
            (self.cert, self.key, self.caCert) = (cert, key, caCert)
        }
    }

    public struct Kubeconfig: Sendable, Equatable {
        public var file: String
        public var context: String?

        public init(file: String, context: String?) {
            (self.file, self.context) = (file, context)
        }
    }

    public var zones: [DNSName]
    public var endpoint: String?
    public var tls: TLSFiles?
    public var kubeconfig: Kubeconfig?
    public var pods = Pods.disabled
    /// CoreDNS's default is 5 seconds.
    public var ttl: UInt32 = 5
    /// Names of these zones (all of the plugin's when empty) that it does
    /// not have go on to the next plugin; nil: they are NXDOMAIN.
    public var fallthroughZones: [DNSName]?

    /// Options of the kubernetes plugin that select or reshape records;
    /// known, and refused with a clear error until they are built.
    static let laterOptions: Set<String> = [
        "namespaces", "labels", "namespace_labels", "endpoint_pod_names", "noendpoints", "ignore", "multicluster",
        "apiserver_qps", "apiserver_burst", "apiserver_max_inflight", "startup_timeout",
    ]

    init(_ directive: Directive, blockZones: [DNSName]) throws(CorefileError) {
        let read = PluginArguments(plugin: "kubernetes")
        zones = directive.arguments.isEmpty ? blockZones : try read.zones(directive.arguments, at: directive)
        try read.options(of: directive) { option throws(CorefileError) in
            switch option.name {
            case "endpoint":
                try read.count(option, 1...1)
                endpoint = option.arguments[0]
            case "tls":
                try read.count(option, 3...3)
                tls = TLSFiles(cert: option.arguments[0], key: option.arguments[1], caCert: option.arguments[2])
            case "kubeconfig":
                try read.count(option, 1...2)
                kubeconfig = Kubeconfig(file: option.arguments[0], context: option.arguments.dropFirst().first)
            case "pods":
                pods = try read.choiceValue(of: option, "pods mode")
            case "ttl":
                ttl = UInt32(try read.integerValue(of: option, 0...3600))
            case "fallthrough":
                fallthroughZones = try read.zones(option.arguments, at: option)
            case let name where Self.laterOptions.contains(name):
                throw read.notSupported(option)
            default:
                return false
            }
            return true
        }
    }

    /// Whether a name in the plugin's zones that it does not have goes to the next plugin.
    public func fallsThrough(_ name: DNSName) -> Bool {
        guard let zones = fallthroughZones else { return false }
        return zones.isEmpty || zones.contains { name.isSubdomain(of: $0) }
    }
}
