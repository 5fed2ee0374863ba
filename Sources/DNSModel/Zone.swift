/// The records of one zone, grouped by owner name and type.
public struct Zone: Sendable {
    public let apex: DNSName
    /// Whether a name under the apex that is not here does not exist
    /// (NXDOMAIN). The reverse zones are not: only the cluster's addresses
    /// are ours there, so a miss is someone else's name.
    public let authoritative: Bool
    /// A zone no query is answered from: the data plane reads its names
    /// (the clients' index of autopath) and treats it as no zone of its own.
    public let isInternal: Bool
    public let soa: ResourceRecord

    /// A set of records with one owner and type (RFC 2181 §5).
    public struct RRSet: Hashable, Sendable {
        public var ttl: UInt32
        public var records: [RecordData]

        /// RFC 2181 §5.2: one TTL per RRSet, the lowest given.
        mutating func insert(_ data: RecordData, ttl: UInt32) {
            guard !records.contains(data) else { return }
            append(data, ttl: ttl)
        }

        mutating func append(_ data: RecordData, ttl: UInt32) {
            records.append(data)
            self.ttl = min(self.ttl, ttl)
        }
    }

    public private(set) var rrsets: [DNSName: [RecordType: RRSet]] = [:]
    /// Every name that exists: owners, names added without records, and
    /// every name between them and the apex (empty non-terminals, RFC 8020).
    public private(set) var names: Set<DNSName> = []
    /// Whether any name holds a CNAME: most zones of a region have none,
    /// and need not be searched for one.
    public private(set) var hasCNAME = false
    /// A region's zone answers only for names at or below its root: the
    /// names above it are not made (for a PTR name, five of them).
    private var floor: DNSName?

    public init(apex: DNSName, authoritative: Bool, isInternal: Bool = false, soa: SOAData, ttl: UInt32) {
        self.apex = apex
        self.authoritative = authoritative
        self.isInternal = isInternal
        self.soa = ResourceRecord(apex, ttl: ttl, .soa(soa))
        add(self.soa)
    }

    /// The zone's apex, authority and SOA with no records yet, not even
    /// the SOA's own: a region below the apex answers from this, for its
    /// names at or below `floor` when one is given.
    public init(emptyLike zone: Zone, floor: DNSName? = nil) {
        apex = zone.apex
        authoritative = zone.authoritative
        isInternal = zone.isInternal
        soa = zone.soa
        self.floor = floor
    }

    /// Adds a record, once: a record already in its RRSet is not added again.
    public mutating func add(_ record: ResourceRecord) {
        precondition(record.name.isSubdomain(of: apex), "\(record.name) is outside \(apex)")
        addName(record.name)
        hasCNAME = hasCNAME || record.type == .cname
        rrsets[record.name, default: [:]][record.type, default: RRSet(ttl: record.ttl, records: [])]
            .insert(record.data, ttl: record.ttl)
    }

    /// Adds records the caller knows to be distinct, from each other and
    /// from what the zone holds: without the check `add` makes per record,
    /// which costs as much as the RRset (skydns's answers above a domain's
    /// services hold every service's records).
    public mutating func add(distinct records: [ResourceRecord]) {
        for record in records {
            precondition(record.name.isSubdomain(of: apex), "\(record.name) is outside \(apex)")
            addName(record.name)
            hasCNAME = hasCNAME || record.type == .cname
            rrsets[record.name, default: [:]][record.type, default: RRSet(ttl: record.ttl, records: [])]
                .append(record.data, ttl: record.ttl)
        }
    }

    /// Makes a name exist without records of its own (a namespace).
    public mutating func addName(_ name: DNSName) {
        var current: DNSName? = name
        while let n = current, n.isSubdomain(of: apex), names.insert(n).inserted {
            if let floor, n == floor || !n.isSubdomain(of: floor) { return }
            current = n.parent
        }
    }

    public func contains(_ name: DNSName) -> Bool { names.contains(name) }

    public func rrset(_ name: DNSName, _ type: RecordType) -> [ResourceRecord] {
        guard let set = rrsets[name]?[type] else { return [] }
        return records(name, set)
    }

    /// An RRset's records, at `name`.
    public func records(_ name: DNSName, _ set: RRSet) -> [ResourceRecord] {
        set.records.map { ResourceRecord(name, ttl: set.ttl, $0) }
    }

    /// Every record, in canonical order with the SOA first: what a zone
    /// file of this zone holds (RFC 1035 §5.2).
    public var records: [ResourceRecord] {
        rrsets.keys.sorted().flatMap { name in
            rrsets[name]!.keys.sorted { ($0 == .soa ? 0 : 1, $0) < ($1 == .soa ? 0 : 1, $1) }.flatMap { rrset(name, $0) }
        }
    }
}
