import JSONDecoding

/// A v1 Endpoints object, reduced to what DNS needs.
public struct Endpoints: Hashable, Sendable, JSONDecodable {
    public var metadata: ObjectMeta
    public var subsets: [Subset]

    public init(metadata: ObjectMeta, subsets: [Subset]) {
        self.metadata = metadata
        self.subsets = subsets
    }

    public init(json: JSONNode) throws {
        metadata = try json.decode(ObjectMeta.self, at: "metadata")
        subsets = try json.decodeIfPresent([Subset].self, at: "subsets") ?? []
    }

    public struct Subset: Hashable, Sendable, JSONDecodable {
        public var addresses: [Address]?
        public var notReadyAddresses: [Address]?
        public var ports: [EndpointPort]?

        public init(addresses: [Address]? = nil, notReadyAddresses: [Address]? = nil, ports: [EndpointPort]? = nil) {
            self.addresses = addresses
            self.notReadyAddresses = notReadyAddresses
            self.ports = ports
        }

        public init(json: JSONNode) throws {
            addresses = try json.decodeIfPresent([Address].self, at: "addresses")
            notReadyAddresses = try json.decodeIfPresent([Address].self, at: "notReadyAddresses")
            ports = try json.decodeIfPresent([EndpointPort].self, at: "ports")
        }
    }

    public struct Address: Hashable, Sendable, JSONDecodable {
        public var ip: String
        public var hostname: String?
        /// The pod behind it, when read (see TargetPodName).
        public var podName: String?

        public init(ip: String, hostname: String? = nil, podName: String? = nil) {
            self.ip = ip
            self.hostname = hostname
            self.podName = podName
        }

        public init(json: JSONNode) throws {
            ip = try json.decode(String.self, at: "ip")
            hostname = try json.decodeIfPresent(String.self, at: "hostname")
            podName = try TargetPodName.read(from: json, hostname: hostname)
        }
    }
}

/// A port of an endpoint (the same shape in Endpoints and EndpointSlices).
public struct EndpointPort: Hashable, Sendable, JSONDecodable {
    public var name: String?
    public var port: Int?
    public var `protocol`: String?

    public init(name: String? = nil, port: Int? = nil, protocol: String? = nil) {
        self.name = name
        self.port = port
        self.protocol = `protocol`
    }

    public init(json: JSONNode) throws {
        name = try json.decodeIfPresent(String.self, at: "name")
        port = try json.decodeIfPresent(Int.self, at: "port")
        `protocol` = try json.decodeIfPresent(String.self, at: "protocol")
    }
}
