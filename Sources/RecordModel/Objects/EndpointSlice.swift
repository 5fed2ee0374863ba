/// A discovery.k8s.io/v1 EndpointSlice, reduced to what DNS needs.
public struct EndpointSlice: Hashable, Sendable, Decodable {
    public var metadata: ObjectMeta
    /// The name of the Service it belongs to: its label
    /// `kubernetes.io/service-name`, taken out of the metadata's labels,
    /// which then need no dictionary of their own (one per slice for one
    /// string: 2.0 MB at 10,000 slices, by heaptrack).
    public var serviceName: String?
    public var addressType: String?
    public var endpoints: [Endpoint]
    public var ports: [EndpointPort]

    public init(metadata: ObjectMeta, addressType: String? = nil, endpoints: [Endpoint], ports: [EndpointPort]) {
        (self.metadata, serviceName) = Self.takingServiceName(from: metadata)
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }

    private enum CodingKeys: String, CodingKey { case metadata, addressType, endpoints, ports }

    /// `endpoints` and `ports` may be null in the API.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        (metadata, serviceName) = Self.takingServiceName(from: try c.decode(ObjectMeta.self, forKey: .metadata))
        addressType = try c.decodeIfPresent(String.self, forKey: .addressType)
        endpoints = (try c.decodeIfPresent([Endpoint].self, forKey: .endpoints) ?? []).compacted
        ports = (try c.decodeIfPresent([EndpointPort].self, forKey: .ports) ?? []).compacted
    }

    public static let serviceNameLabel = "kubernetes.io/service-name"

    /// The Service this slice belongs to, from its label.
    public var serviceKey: ObjectKey? { serviceName.map { ObjectKey(namespace: metadata.namespace, name: $0) } }

    private static func takingServiceName(from metadata: ObjectMeta) -> (ObjectMeta, String?) {
        var rest = metadata
        let name = rest.labels.removeValue(forKey: serviceNameLabel)
        if rest.labels.isEmpty { rest.labels = [:] }
        return (rest, name)
    }

    public struct Endpoint: Hashable, Sendable, Decodable {
        public var addresses: Addresses
        public var hostname: String?
        public var conditions: Conditions?

        public init(addresses: [String], hostname: String? = nil, ready: Bool? = nil) {
            self.addresses = Addresses(addresses)
            self.hostname = hostname
            self.conditions = Conditions(ready: ready)
        }

        /// A nil `ready` is an unknown state, to be read as ready (API reference).
        public var isReady: Bool { conditions?.ready ?? true }
    }

    /// An endpoint's addresses. The EndpointSlice controller gives each
    /// endpoint exactly one (API reference, EndpointSlice v1), kept here
    /// without an array of its own: 100,000 endpoints took 4.8 MB of
    /// one-address arrays (heaptrack).
    public struct Addresses: Hashable, Sendable, Sequence, Decodable {
        private var first: String?
        private var others: [String] = []

        public init(_ addresses: [String]) {
            first = addresses.first
            others = Array(addresses.dropFirst())
        }

        public init(from decoder: any Decoder) throws {
            self.init(try [String](from: decoder))
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

    public struct Conditions: Hashable, Sendable, Decodable {
        public var ready: Bool?
    }
}
