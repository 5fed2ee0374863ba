import JSONDecoding

/// A discovery.k8s.io/v1 EndpointSlice, reduced to what DNS needs.
public struct EndpointSlice: Hashable, Sendable, JSONDecodable {
    public var metadata: ObjectMeta
    /// The name of the Service it belongs to: its label
    /// `kubernetes.io/service-name`, taken out of the metadata's labels,
    /// which then need no dictionary of their own (one per slice for one
    /// string: 2.0 MB at 10,000 slices, by heaptrack).
    public var serviceName: String?
    /// The ServiceImport it carries endpoints of, and from which cluster
    /// (its Multi-Cluster Services labels), taken out likewise.
    public var importName: String?
    public var sourceCluster: String?
    public var addressType: String?
    public var endpoints: [Endpoint]
    public var ports: [EndpointPort]
    /// When the change this version carries happened, in seconds since the
    /// epoch: the controller's annotation, from which DNS programming
    /// latency is measured (the Kubernetes scalability SLI); nil without it.
    public var lastChangeTriggerTime: Double?

    public init(
        metadata: ObjectMeta, addressType: String? = nil, endpoints: [Endpoint], ports: [EndpointPort],
        lastChangeTriggerTime: Double? = nil
    ) {
        (self.metadata, serviceName, importName, sourceCluster) = Self.takingServiceName(from: metadata)
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
        self.lastChangeTriggerTime = lastChangeTriggerTime
    }

    /// `endpoints` and `ports` may be null in the API.
    public init(json: JSONNode) throws {
        (metadata, serviceName, importName, sourceCluster) = Self.takingServiceName(
            from: try json.decode(ObjectMeta.self, at: "metadata"))
        addressType = try json.decodeIfPresent(String.self, at: "addressType")
        endpoints = try json.decodeIfPresent([Endpoint].self, at: "endpoints") ?? []
        ports = try json.decodeIfPresent([EndpointPort].self, at: "ports") ?? []
        // Read apart from the metadata, which keeps no annotation dictionary
        // per slice; an odd value is no time, never an unreadable slice.
        let trigger = try? json.member("metadata")?.member("annotations")?.member(Self.lastChangeTriggerTimeAnnotation)?.string()
        lastChangeTriggerTime = trigger.flatMap(RFC3339Time.epochSeconds)
    }

    public static let serviceNameLabel = "kubernetes.io/service-name"
    public static let lastChangeTriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time"

    /// The Service this slice belongs to, from its label.
    public var serviceKey: ObjectKey? { serviceName.map { ObjectKey(namespace: metadata.namespace, name: $0) } }

    /// The ServiceImport it carries endpoints for.
    public var importKey: ObjectKey? { importName.map { ObjectKey(namespace: metadata.namespace, name: $0) } }

    private static func takingServiceName(from metadata: ObjectMeta) -> (ObjectMeta, String?, String?, String?) {
        var rest = metadata
        let name = rest.labels.removeValue(forKey: serviceNameLabel)
        let imported = rest.labels.removeValue(forKey: ServiceImport.serviceNameLabel)
        let cluster = rest.labels.removeValue(forKey: ServiceImport.sourceClusterLabel)
        if rest.labels.isEmpty { rest.labels = [:] }
        return (rest, name, imported, cluster)
    }

    public struct Endpoint: Hashable, Sendable, JSONDecodable {
        public var addresses: Addresses
        public var hostname: String?
        public var conditions: Conditions?
        /// The pod behind it, when read (see TargetPodName).
        public var podName: String?

        public init(addresses: [String], hostname: String? = nil, ready: Bool? = nil, podName: String? = nil) {
            self.addresses = Addresses(addresses)
            self.hostname = hostname
            self.conditions = Conditions(ready: ready)
            self.podName = podName
        }

        public init(json: JSONNode) throws {
            addresses = Addresses(try json.decode([String].self, at: "addresses"))
            hostname = try json.decodeIfPresent(String.self, at: "hostname")
            conditions = try json.decodeIfPresent(Conditions.self, at: "conditions")
            podName = try TargetPodName.read(from: json, hostname: hostname)
        }

        /// A nil `ready` is an unknown state, to be read as ready (API reference).
        public var isReady: Bool { conditions?.ready ?? true }
    }

    /// An endpoint's addresses. The EndpointSlice controller gives each
    /// endpoint exactly one (API reference, EndpointSlice v1), kept here
    /// without an array of its own: 100,000 endpoints took 4.8 MB of
    /// one-address arrays (heaptrack).
    public struct Addresses: Hashable, Sendable, Sequence {
        private var first: String?
        private var others: [String] = []

        public init(_ addresses: [String]) {
            first = addresses.first
            others = Array(addresses.dropFirst())
        }

        public func makeIterator() -> Iterator { Iterator(addresses: self) }

        public struct Iterator: IteratorProtocol {
            let addresses: Addresses
            var position = 0

            public mutating func next() -> String? {
                defer { position += 1 }
                if position == 0 { return addresses.first }
                return position <= addresses.others.count ? addresses.others[position - 1] : nil
            }
        }
    }

    public struct Conditions: Hashable, Sendable, JSONDecodable {
        public var ready: Bool?

        init(ready: Bool?) { self.ready = ready }

        public init(json: JSONNode) throws { ready = try json.decodeIfPresent(Bool.self, at: "ready") }
    }
}
