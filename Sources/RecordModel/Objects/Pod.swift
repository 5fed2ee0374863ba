import JSONDecoding

/// A Pod, reduced to what DNS needs: where it is and its addresses.
public struct Pod: Hashable, Sendable, JSONDecodable {
    public var metadata: ObjectMeta
    public var status: Status?

    public init(metadata: ObjectMeta, status: Status?) {
        self.metadata = metadata
        self.status = status
    }

    public init(json: JSONNode) throws {
        metadata = try json.decode(ObjectMeta.self, at: "metadata")
        status = try json.decodeIfPresent(Status.self, at: "status")
    }

    public struct Status: Hashable, Sendable, JSONDecodable {
        public var phase: String?
        public var podIP: String?
        public var podIPs: [PodIP]?

        public init(phase: String? = nil, podIP: String? = nil, podIPs: [PodIP]? = nil) {
            self.phase = phase
            self.podIP = podIP
            self.podIPs = podIPs
        }

        public init(json: JSONNode) throws {
            phase = try json.decodeIfPresent(String.self, at: "phase")
            podIP = try json.decodeIfPresent(String.self, at: "podIP")
            podIPs = try json.decodeIfPresent([PodIP].self, at: "podIPs")
        }
    }

    public struct PodIP: Hashable, Sendable, JSONDecodable {
        public var ip: String
        public init(ip: String) { self.ip = ip }
        public init(json: JSONNode) throws { ip = try json.decode(String.self, at: "ip") }
    }

    /// The pod's addresses while it runs or may run; a finished pod's
    /// address may belong to another pod already.
    public var addresses: [IPAddress] {
        guard let status, status.phase != "Succeeded", status.phase != "Failed" else { return [] }
        let texts = status.podIPs?.map(\.ip) ?? [status.podIP].compactMap { $0 }
        return texts.compactMap(IPAddress.init)
    }
}

/// A Namespace: its existence is what DNS needs.
public struct Namespace: Hashable, Sendable, JSONDecodable {
    public var metadata: ObjectMeta
    public init(metadata: ObjectMeta) { self.metadata = metadata }
    public init(json: JSONNode) throws { metadata = try json.decode(ObjectMeta.self, at: "metadata") }
}
