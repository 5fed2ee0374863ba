import DNSModel
import LabelSelectors

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
    /// `namespaces`: only these namespaces' objects make records; nil: every namespace's.
    public var namespaces: Set<String>?
    /// `labels`: only Services, endpoints and pods this selects make records.
    public var labels: LabelSelector?
    /// `namespace_labels`: only the objects of namespaces this selects make records.
    public var namespaceLabels: LabelSelector?
    /// `endpoint_pod_names`: an endpoint without a hostname is named for its pod.
    public var endpointPodNames = false
    /// `noendpoints`: endpoints are not watched; headless services and endpoint names have no records.
    public var noEndpoints = false
    /// `ignore empty_service`: a service without ready endpoints has no records.
    public var ignoreEmptyService = false
    /// `multicluster ZONES`: the clusterset zones (KEP-1645), among the plugin's zones.
    public var multiclusterZones: [DNSName] = []

    /// Options of the kubernetes plugin this server knows from CoreDNS
    /// and refuses with a clear error: they tune its API client.
    static let laterOptions: Set<String> = [
        "apiserver_qps", "apiserver_burst", "apiserver_max_inflight", "startup_timeout", "zonal",
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
            case "namespaces":
                try read.count(option, 1...Int.max)
                namespaces = Set(option.arguments)
            case "labels", "namespace_labels":
                try read.count(option, 1...Int.max)
                // The selector is the rest of the line: `labels app in (a, b)`.
                let text = option.arguments.joined(separator: " ")
                let selector: LabelSelector
                do { selector = try LabelSelector(text) } catch {
                    throw read.error("unable to parse label selector value: '\(text)': \(error)", at: option)
                }
                if option.name == "labels" { labels = selector } else { namespaceLabels = selector }
            case "endpoint_pod_names":
                endpointPodNames = try read.flag(option)
            case "noendpoints":
                noEndpoints = try read.flag(option)
            case "ignore":
                try read.count(option, 1...1)
                guard option.arguments[0] == "empty_service" else {
                    throw read.error("unable to parse ignore value: '\(option.arguments[0])'", at: option)
                }
                ignoreEmptyService = true
            case "multicluster":
                try read.count(option, 1...Int.max)
                multiclusterZones = try read.zones(option.arguments, at: option)
                if let zone = multiclusterZones.first(where: { !zones.contains($0) }) {
                    throw read.error("multicluster zone \(zone) is not one of the plugin's zones", at: option)
                }
            case let name where Self.laterOptions.contains(name):
                throw read.notSupported(option)
            default:
                return false
            }
            return true
        }
        if namespaces != nil, namespaceLabels != nil {
            throw read.error("namespaces and namespace_labels cannot both be set", at: directive)
        }
    }

    /// Whether a name in the plugin's zones that it does not have goes to the next plugin.
    public func fallsThrough(_ name: DNSName) -> Bool { Fallthrough.covers(fallthroughZones, name) }
}
