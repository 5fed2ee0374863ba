/// A Service, reduced to what DNS needs.
public struct Service: Hashable, Sendable, Decodable {
    public var metadata: ObjectMeta
    public var spec: Spec

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    public struct Spec: Hashable, Sendable, Decodable {
        public var type: String?
        public var clusterIP: String?
        public var clusterIPs: [String]?
        public var externalName: String?
        public var ports: [Port]?
        public var publishNotReadyAddresses: Bool?

        public init(
            type: String? = nil, clusterIP: String? = nil, clusterIPs: [String]? = nil,
            externalName: String? = nil, ports: [Port]? = nil, publishNotReadyAddresses: Bool? = nil
        ) {
            self.type = type
            self.clusterIP = clusterIP
            self.clusterIPs = clusterIPs
            self.externalName = externalName
            self.ports = ports
            self.publishNotReadyAddresses = publishNotReadyAddresses
        }
    }

    public struct Port: Hashable, Sendable, Decodable {
        public var name: String?
        public var port: Int
        public var `protocol`: String?

        public init(name: String? = nil, port: Int, protocol: String? = nil) {
            self.name = name
            self.port = port
            self.protocol = `protocol`
        }
    }

    public static let tolerateUnreadyAnnotation = "service.alpha.kubernetes.io/tolerate-unready-endpoints"

    public var isExternalName: Bool { spec.type == "ExternalName" }

    /// `clusterIP: None`: DNS answers with the endpoints' addresses.
    public var isHeadless: Bool { !isExternalName && spec.clusterIP == "None" }

    /// The cluster IPs (dual-stack: `clusterIPs`, else `clusterIP`).
    public var clusterIPs: [IPAddress] {
        let texts = spec.clusterIPs ?? [spec.clusterIP].compactMap { $0 }
        return texts.compactMap(IPAddress.init)
    }

    /// Whether not-ready endpoints are published too: the field, or the
    /// annotation it replaced.
    public var publishesNotReady: Bool {
        spec.publishNotReadyAddresses == true
            || metadata.annotations[Self.tolerateUnreadyAnnotation]?.lowercased() == "true"
    }
}
