/// The zones one server answers for, and the rules it applies on top of
/// their records.
public struct ZoneSet: Sendable {
    public var zones: [Zone]
    /// kube-dns "pods insecure": A/AAAA synthesised from the first label of
    /// `<a-b-c-d>.<ns>.<suffix>` when `<ns>.<suffix>` exists.
    public var podSynthesis: PodSynthesis?
    /// Before the first load: every name in the zones is "try again".
    public var unsynced: Bool
    /// Objects that made no records, and why (for the log).
    public var problems: [String] = []

    public struct PodSynthesis: Hashable, Sendable {
        public var suffix: DNSName
        public var ttl: UInt32

        public init(suffix: DNSName, ttl: UInt32) {
            self.suffix = suffix
            self.ttl = ttl
        }
    }

    public init(zones: [Zone], podSynthesis: PodSynthesis? = nil, unsynced: Bool = false) {
        self.zones = zones
        self.podSynthesis = podSynthesis
        self.unsynced = unsynced
    }

    /// The first zone's SOA serial (every zone of a set shares it).
    public var serial: UInt32? {
        guard case .soa(let soa)? = zones.first?.soa.data else { return nil }
        return soa.serial
    }

    /// The zone with the longest apex that holds the name.
    public func zone(for name: DNSName) -> Zone? {
        zones.filter { name.isSubdomain(of: $0.apex) }.max { $0.apex.wire.count < $1.apex.wire.count }
    }
}
