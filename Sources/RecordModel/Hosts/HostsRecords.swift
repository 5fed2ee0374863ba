import DNSModel

/// The records of hosts entries in their zones (CoreDNS's hosts plugin):
/// A and AAAA at each name, and a PTR at each address's reverse name to
/// the first name written for it (unless `reverse` is off). Only those
/// names exist: a hosts name makes no names above it, so that `com.` of
/// `node.example.com` still goes on to forwarding. A table of its own,
/// asked after the cluster's (see dp_server_publish_hosts).
public struct HostsRecords: Sendable, TableContents {
    public let heads: ZoneSet
    /// Each name with a zone of its own, holding its records only.
    private let regions: [Zone]

    /// `authoritative`: a name of the zones that is not here is NXDOMAIN
    /// (no `fallthrough`), else it goes on to forwarding.
    public init(entries: [HostsFile.Entry], zones: [DNSName], ttl: UInt32, reverse: Bool, authoritative: Bool) {
        let apexes = zones.isEmpty ? [DNSName.root] : zones
        let heads = apexes.map { apex in
            let soa = SOAData(
                primary: DNSName(validated: ["ns", "dns"], under: apex), mailbox: DNSName(validated: ["hostmaster"], under: apex),
                serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl)
            return Zone(apex: apex, authoritative: authoritative, soa: soa, ttl: ttl)
        }
        var records: [DNSName: [RecordData]] = [:]
        var order: [DNSName] = []
        func add(_ name: DNSName, _ data: RecordData) {
            guard heads.contains(where: { name.isSubdomain(of: $0.apex) }) else { return }
            if records[name] == nil { order.append(name) }
            if !(records[name]?.contains(data) ?? false) { records[name, default: []].append(data) }
        }
        for entry in entries {
            for name in entry.names { add(name, .address(entry.address)) }
            if reverse, let first = entry.names.first { add(entry.address.reverseName, .ptr(first)) }
        }
        self.heads = ZoneSet(zones: heads.map { Zone(emptyLike: $0) })
        regions = order.map { name in
            let head = heads.filter { name.isSubdomain(of: $0.apex) }.max { $0.apex.wire.count < $1.apex.wire.count }!
            var zone = Zone(emptyLike: head, floor: name)
            for data in records[name]! { zone.add(ResourceRecord(name, ttl: ttl, data)) }
            return zone
        }
    }

    public var nameCount: Int { regions.count }
    public var partCount: Int { regions.isEmpty ? 0 : 1 }

    public func forEachName(
        inPart part: Int, _ names: (ZoneNames) throws -> Void, pointers: (PointerName) throws -> Void
    ) rethrows {
        for zone in regions { try names(ZoneNames(zone: zone, names: Array(zone.names))) }
    }
}
