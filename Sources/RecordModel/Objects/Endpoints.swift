/// A v1 Endpoints object, reduced to what DNS needs.
public struct Endpoints: Hashable, Sendable, Decodable {
    public var metadata: ObjectMeta
    public var subsets: [Subset]

    public init(metadata: ObjectMeta, subsets: [Subset]) {
        self.metadata = metadata
        self.subsets = subsets
    }

    private enum CodingKeys: String, CodingKey { case metadata, subsets }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ObjectMeta.self, forKey: .metadata)
        subsets = (try c.decodeIfPresent([Subset].self, forKey: .subsets) ?? []).compacted
    }

    public struct Subset: Hashable, Sendable, Decodable {
        public var addresses: [Address]?
        public var notReadyAddresses: [Address]?
        public var ports: [EndpointPort]?

        public init(addresses: [Address]? = nil, notReadyAddresses: [Address]? = nil, ports: [EndpointPort]? = nil) {
            self.addresses = addresses
            self.notReadyAddresses = notReadyAddresses
            self.ports = ports
        }
    }

    public struct Address: Hashable, Sendable, Decodable {
        public var ip: String
        public var hostname: String?

        public init(ip: String, hostname: String? = nil) {
            self.ip = ip
            self.hostname = hostname
        }
    }
}

/// A port of an endpoint (the same shape in Endpoints and EndpointSlices).
public struct EndpointPort: Hashable, Sendable, Decodable {
    public var name: String?
    public var port: Int?
    public var `protocol`: String?

    public init(name: String? = nil, port: Int? = nil, protocol: String? = nil) {
        self.name = name
        self.port = port
        self.protocol = `protocol`
    }
}
