/// A part of the zones whose answers are made together. Every name
/// belongs to one region, told by the name alone, and a region's answers
/// come from the contributions of a few objects: so a change remakes only
/// the regions of what it touched, and nothing of the zones needs to be
/// kept between changes but the objects and a few indexes.
enum Region: Hashable, Sendable {
    /// The cluster apex, `svc.<zone>`, `pod.<zone>` and the names of the
    /// DNS service and schema version.
    case apex
    /// `<ns>.svc.<zone>` and `<ns>.pod.<zone>`.
    case namespace(String)
    /// `<service>.<ns>.svc.<zone>` and every name below it.
    case service(ObjectKey)
    /// `<address>.<ns>.pod.<zone>` and below: the pods with that address;
    /// likewise an address of the clients' index.
    case podName(DNSName)
    /// `in-addr.arpa` (zone 1) or `ip6.arpa` (zone 2).
    case reverseApex(Int)
    /// The PTR name of one address.
    case address(DNSName)
    /// A name between a reverse apex and the PTR names below it.
    case reverseBranch(DNSName)
    /// A whole k8s_external zone (zone 3 on): few Services have external
    /// addresses, so its answers are made together.
    case external(Int)
    /// The whole clusterset zone (multicluster): its ServiceImports, few
    /// in a cluster, answered together.
    case clusterset
}

/// The cluster zone, then the IPv4 and IPv6 reverse zones, then the
/// k8s_external zones, then the clusterset zone and the clients' index
/// when there are.
struct ZoneLayout: Sendable {
    let domain: DNSName
    let domainLabels: Int
    let externalZones: [DNSName]
    /// The clusterset zone and its index, or nil.
    let clusterset: (zone: DNSName, index: Int)?
    /// The index of the clients' index zone, or nil.
    let clientIndexZone: Int?
    static let reverseApexes = [DNSName(validated: ["in-addr", "arpa"]), DNSName(validated: ["ip6", "arpa"])]
    /// Labels of a PTR name below its reverse apex: four bytes, or 32 nibbles.
    static let addressLabels = [4, 32]

    /// The index of the first k8s_external zone.
    static let firstExternal = 3

    init(domain: DNSName, externalZones: [DNSName] = [], clusterset: DNSName? = nil, clientIndex: Bool = false) {
        self.domain = domain
        domainLabels = domain.labelCount
        self.externalZones = externalZones
        let next = Self.firstExternal + externalZones.count
        self.clusterset = clusterset.map { ($0, next) }
        clientIndexZone = clientIndex ? next + (clusterset == nil ? 0 : 1) : nil
    }

    /// Whether a zone index is a k8s_external zone's.
    func isExternal(_ index: Int) -> Bool { index >= Self.firstExternal && index < Self.firstExternal + externalZones.count }

    /// 0 for the cluster zone, 1 and 2 for the reverse zones, 3 on for the k8s_external zones.
    func zoneIndex(_ name: DNSName) -> Int {
        for (index, zone) in externalZones.enumerated() where name.isSubdomain(of: zone) { return Self.firstExternal + index }
        if let clientIndexZone, name.isSubdomain(of: ClusterRecords.clientIndexApex) { return clientIndexZone }
        if let clusterset, name.isSubdomain(of: clusterset.zone) { return clusterset.index }
        if name.isSubdomain(of: Self.reverseApexes[0]) { return 1 }
        if name.isSubdomain(of: Self.reverseApexes[1]) { return 2 }
        return 0
    }

    func region(of name: DNSName) -> Region {
        let zone = zoneIndex(name)
        let count = name.labelCount
        if zone == clientIndexZone { return .podName(name) }
        if zone == clusterset?.index { return .clusterset }
        if zone >= Self.firstExternal { return .external(zone) }
        if zone != 0 {
            let depth = count - 2
            if depth == 0 { return .reverseApex(zone) }
            return depth == Self.addressLabels[zone - 1] ? .address(name) : .reverseBranch(name)
        }
        let depth = count - domainLabels
        guard depth >= 2 else { return .apex }
        let services = name.label(depth - 1, is: "svc")
        guard services || name.label(depth - 1, is: "pod") else { return .apex }
        let namespace = name.label(depth - 2)
        if depth == 2 { return .namespace(namespace) }
        if services { return .service(ObjectKey(namespace: namespace, name: name.label(depth - 3))) }
        return .podName(name.suffix(labels: domainLabels + 3))
    }

    /// The name every name of a region is at or below, for the regions
    /// that have one.
    func root(of region: Region) -> DNSName? {
        switch region {
        case .service(let key): return try? DNSName(labels: [key.name, key.namespace, "svc"], under: domain)
        case .podName(let name), .address(let name), .reverseBranch(let name): return name
        case .apex, .namespace, .reverseApex, .external, .clusterset: return nil
        }
    }

    /// Tells whether a name is in `region`: the same as `region(of: name)
    /// == region`, without reading labels for the regions most names are in.
    func membership(_ region: Region) -> (DNSName) -> Bool {
        switch region {
        case .service, .podName:
            guard let root = root(of: region) else { return { _ in false } }
            return { $0.isSubdomain(of: root) }
        case .address(let root), .reverseBranch(let root): return { $0 == root }
        default: return { self.region(of: $0) == region }
        }
    }

    func zoneIndex(of region: Region) -> Int {
        switch region {
        case .apex, .namespace, .service: return 0
        case .podName(let name): return zoneIndex(name)
        case .reverseApex(let zone), .external(let zone): return zone
        case .clusterset: return clusterset?.index ?? 0
        case .address(let name), .reverseBranch(let name): return zoneIndex(name)
        }
    }
}
