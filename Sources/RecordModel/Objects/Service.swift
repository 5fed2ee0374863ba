import JSONDecoding
import Synchronization

/// A Service, reduced to what DNS needs.
public struct Service: Hashable, Sendable, JSONDecodable {
    /// The fields live in an immutable box, so a Service is one pointer:
    /// the dictionary of a cluster's Services has a power of two of
    /// buckets, up to three quarters full, and 100,000 Services inline
    /// (120 bytes each) took 40 MB of buckets.
    private var fields: Fields

    private final class Fields: Sendable {
        let metadata: ObjectMeta
        let spec: KeptSpec

        init(metadata: ObjectMeta, spec: KeptSpec) {
            self.metadata = metadata
            self.spec = spec
        }
    }

    /// The spec as DNS reads it, in 48 bytes where the API's fields took
    /// 72: a cluster's Services are mostly their boxes. Kept: whether it
    /// is an ExternalName Service, and its one address (the external name,
    /// else the cluster IP); the other field of those two and a type
    /// other than ExternalName are read by no DNS rule, and not kept.
    /// The external addresses (k8s_external's) are nil for most Services.
    private struct KeptSpec: Hashable, Sendable {
        var isExternalName: Bool
        var publishNotReadyAddresses: Bool?
        var address: String?
        /// Both families' cluster IPs (dual-stack); nil when `address` is the only one.
        var clusterIPs: [String]?
        var ports: [Port]?
        /// `externalIPs`, then the load balancers' ingress IPs or host names; nil: none.
        var external: [String]?

        init(_ spec: Spec) {
            isExternalName = spec.type == "ExternalName"
            publishNotReadyAddresses = spec.publishNotReadyAddresses
            address = isExternalName ? spec.externalName : spec.clusterIP
            // A single-stack Service gives its cluster IP in both fields: kept
            // once, rather than in an array of its own per Service.
            let single = spec.clusterIPs.map { $0.count == 1 && $0.first == spec.clusterIP } ?? true
            clusterIPs = isExternalName || single ? nil : spec.clusterIPs
            ports = spec.ports.map(PortLists.shared)
            let external = (spec.externalIPs ?? []) + spec.loadBalancerIngress
            self.external = external.isEmpty ? nil : external
        }

        var spec: Spec {
            Spec(
                type: isExternalName ? "ExternalName" : nil, clusterIP: isExternalName ? nil : address,
                clusterIPs: clusterIPs, externalName: isExternalName ? address : nil, ports: ports,
                publishNotReadyAddresses: publishNotReadyAddresses, externalIPs: external)
        }
    }

    public var metadata: ObjectMeta {
        get { fields.metadata }
        set { fields = Fields(metadata: newValue, spec: fields.spec) }
    }

    public var spec: Spec {
        get { fields.spec.spec }
        set { fields = Fields(metadata: fields.metadata, spec: KeptSpec(newValue)) }
    }

    public init(metadata: ObjectMeta, spec: Spec) {
        fields = Fields(metadata: metadata, spec: KeptSpec(spec))
    }

    public init(json: JSONNode) throws {
        let metadata = try json.decode(ObjectMeta.self, at: "metadata")
        var spec = try json.decode(Spec.self, at: "spec")
        // The load balancers' addresses are status, kept with the spec's
        // external IPs: k8s_external serves both.
        if let ingress = try json.member("status")?.member("loadBalancer")?.member("ingress"), !ingress.isNull {
            spec.loadBalancerIngress = try [LoadBalancerIngress](json: ingress).compactMap { $0.ip ?? $0.hostname }
        }
        self.init(metadata: metadata, spec: spec)
    }

    public static func == (lhs: Service, rhs: Service) -> Bool {
        lhs.fields === rhs.fields || (lhs.metadata == rhs.metadata && lhs.fields.spec == rhs.fields.spec)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(metadata)
        hasher.combine(fields.spec)
    }

    public struct Spec: Hashable, Sendable, JSONDecodable {
        public var type: String?
        public var clusterIP: String?
        public var clusterIPs: [String]?
        public var externalName: String?
        public var ports: [Port]?
        public var publishNotReadyAddresses: Bool?
        public var externalIPs: [String]?
        /// `status.loadBalancer.ingress`: each load balancer's IP, else its host name.
        public var loadBalancerIngress: [String] = []

        public init(
            type: String? = nil, clusterIP: String? = nil, clusterIPs: [String]? = nil,
            externalName: String? = nil, ports: [Port]? = nil, publishNotReadyAddresses: Bool? = nil,
            externalIPs: [String]? = nil, loadBalancerIngress: [String] = []
        ) {
            self.type = type
            self.clusterIP = clusterIP
            self.clusterIPs = clusterIPs
            self.externalName = externalName
            self.ports = ports
            self.publishNotReadyAddresses = publishNotReadyAddresses
            self.externalIPs = externalIPs
            self.loadBalancerIngress = loadBalancerIngress
        }

        public init(json: JSONNode) throws {
            type = try json.decodeIfPresent(String.self, at: "type")
            clusterIP = try json.decodeIfPresent(String.self, at: "clusterIP")
            clusterIPs = try json.decodeIfPresent([String].self, at: "clusterIPs")
            externalName = try json.decodeIfPresent(String.self, at: "externalName")
            ports = try json.decodeIfPresent([Port].self, at: "ports")
            publishNotReadyAddresses = try json.decodeIfPresent(Bool.self, at: "publishNotReadyAddresses")
            externalIPs = try json.decodeIfPresent([String].self, at: "externalIPs")
        }
    }

    struct LoadBalancerIngress: JSONDecodable {
        var ip: String?
        var hostname: String?

        init(json: JSONNode) throws {
            ip = try json.decodeIfPresent(String.self, at: "ip")
            hostname = try json.decodeIfPresent(String.self, at: "hostname")
        }
    }

    /// Equal port lists share one array: most Services of a cluster have
    /// one of a few (80/TCP, 443/TCP), and an array each took 7.2 MB (by
    /// heaptrack) at 100,000 Services. At most `limit` lists are kept, so a cluster of
    /// distinct lists costs no more than without.
    private enum PortLists {
        static let limit = 4096
        static let known = Mutex<Set<[Port]>>([])

        static func shared(_ ports: [Port]) -> [Port] {
            known.withLock { known in
                if let kept = known.firstIndex(of: ports) { return known[kept] }
                if known.count < limit { known.insert(ports) }
                return ports
            }
        }
    }

    public struct Port: Hashable, Sendable, JSONDecodable {
        public var name: String?
        public var port: Int
        public var `protocol`: String?

        public init(name: String? = nil, port: Int, protocol: String? = nil) {
            self.name = name
            self.port = port
            self.protocol = `protocol`
        }

        public init(json: JSONNode) throws {
            name = try json.decodeIfPresent(String.self, at: "name")
            port = try json.decode(Int.self, at: "port")
            `protocol` = try json.decodeIfPresent(String.self, at: "protocol")
        }
    }

    public static let tolerateUnreadyAnnotation = "service.alpha.kubernetes.io/tolerate-unready-endpoints"

    public var isExternalName: Bool { fields.spec.isExternalName }

    /// The ports, read without making the whole spec again.
    public var ports: [Port] { fields.spec.ports ?? [] }

    /// An ExternalName Service's name.
    public var externalName: String? { isExternalName ? fields.spec.address : nil }

    /// `clusterIP: None`: DNS answers with the endpoints' addresses.
    public var isHeadless: Bool { !isExternalName && fields.spec.address == "None" }

    /// The cluster IPs (dual-stack: `clusterIPs`, else `clusterIP`).
    public var clusterIPs: [IPAddress] {
        guard !isExternalName else { return [] }
        if let dualStack = fields.spec.clusterIPs { return dualStack.compactMap(IPAddress.init) }
        return fields.spec.address.flatMap(IPAddress.init).map { [$0] } ?? []
    }

    /// Its external IPs and load balancers' addresses (IPs or host names), for k8s_external.
    public var externalAddresses: [String] { fields.spec.external ?? [] }

    /// Whether not-ready endpoints are published too: the field, or the
    /// annotation it replaced.
    public var publishesNotReady: Bool {
        fields.spec.publishNotReadyAddresses == true
            || metadata.annotations[Self.tolerateUnreadyAnnotation]?.lowercased() == "true"
    }
}
