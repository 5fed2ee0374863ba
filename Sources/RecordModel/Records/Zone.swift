/// The records of one zone, grouped by owner name and type. Records and
/// names are counted, so that what several objects put in (a shared
/// reverse name, a namespace's empty non-terminal) stays until the last
/// of them takes it out; the zone notes every name whose answers change.
public struct Zone: Sendable {
    public let apex: DNSName
    /// Whether a name under the apex that is not here does not exist
    /// (NXDOMAIN). The reverse zones are not: only the cluster's addresses
    /// are ours there, so a miss is someone else's name.
    public let authoritative: Bool
    public private(set) var soa: ResourceRecord

    /// A set of records with one owner and type (RFC 2181 §5), each
    /// record counted by how many objects gave it.
    public struct RRSet: Hashable, Sendable {
        public var ttl: UInt32
        public var records: [RecordData]
        var counts: [Int32]

        /// RFC 2181 §5.2: one TTL per RRSet, the lowest given.
        mutating func insert(_ data: RecordData, ttl: UInt32) {
            if let index = records.firstIndex(of: data) {
                counts[index] += 1
            } else {
                records.append(data)
                counts.append(1)
            }
            self.ttl = min(self.ttl, ttl)
        }

        /// Takes one count of a record out; false when it was not there.
        mutating func remove(_ data: RecordData) -> Bool {
            guard let index = records.firstIndex(of: data) else { return false }
            counts[index] -= 1
            if counts[index] == 0 {
                records.remove(at: index)
                counts.remove(at: index)
            }
            return true
        }
    }

    public private(set) var rrsets: [DNSName: [RecordType: RRSet]] = [:]
    /// Every name that exists, counted: owners, names added without
    /// records, and every name between them and the apex (empty
    /// non-terminals, RFC 8020) count once per name at or below them.
    private var nameCounts: [DNSName: Int32] = [:]
    /// The owners of in-zone CNAMEs by target: their answers carry the
    /// target's records (RFC 1034 §3.6.2), so they change with it. Other
    /// targets (SRV, NS) are named by the same object as their owner.
    private var cnameOwners: [DNSName: [DNSName: Int32]] = [:]
    /// Names whose answers may have changed since `takeChangedNames()`.
    private var changed: Set<DNSName> = []

    public init(apex: DNSName, authoritative: Bool, soa: SOAData, ttl: UInt32) {
        self.apex = apex
        self.authoritative = authoritative
        self.soa = ResourceRecord(apex, ttl: ttl, .soa(soa))
        add(self.soa)
    }

    /// Every name that exists here.
    public var names: Dictionary<DNSName, Int32>.Keys { nameCounts.keys }

    public func contains(_ name: DNSName) -> Bool { nameCounts[name] != nil }

    /// Adds a record; one given again is counted again.
    public mutating func add(_ record: ResourceRecord) {
        precondition(record.name.isSubdomain(of: apex), "\(record.name) is outside \(apex)")
        addName(record.name)
        rrsets[record.name, default: [:]][record.type, default: RRSet(ttl: record.ttl, records: [], counts: [])]
            .insert(record.data, ttl: record.ttl)
        if case .cname(let target) = record.data, target.isSubdomain(of: apex) {
            cnameOwners[target, default: [:]][record.name, default: 0] += 1
        }
        changed.insert(record.name)
    }

    /// Takes out one count of a record that was added.
    public mutating func remove(_ record: ResourceRecord) {
        guard var node = rrsets[record.name], var set = node[record.type], set.remove(record.data) else { return }
        node[record.type] = set.records.isEmpty ? nil : set
        rrsets[record.name] = node.isEmpty ? nil : node
        if case .cname(let target) = record.data, target.isSubdomain(of: apex) {
            cnameOwners[target]?[record.name]? -= 1
            if cnameOwners[target]?[record.name] == 0 { cnameOwners[target]?[record.name] = nil }
            if cnameOwners[target]?.isEmpty == true { cnameOwners[target] = nil }
        }
        changed.insert(record.name)
        removeName(record.name)
    }

    /// Makes a name exist without records of its own (a namespace).
    public mutating func addName(_ name: DNSName) {
        var current: DNSName? = name
        while let n = current, n.isSubdomain(of: apex) {
            let count = nameCounts[n, default: 0]
            nameCounts[n] = count + 1
            if count == 0 { changed.insert(n) }
            current = n == apex ? nil : n.parent
        }
    }

    /// Takes out one count of a name added with `addName`.
    public mutating func removeName(_ name: DNSName) {
        var current: DNSName? = name
        while let n = current, n.isSubdomain(of: apex), let count = nameCounts[n] {
            nameCounts[n] = count == 1 ? nil : count - 1
            if count == 1 { changed.insert(n) }
            current = n == apex ? nil : n.parent
        }
    }

    /// A new serial (or other SOA fields) for the zone.
    public mutating func replaceSOA(_ record: ResourceRecord) {
        remove(soa)
        soa = record
        add(record)
    }

    /// The names whose answers may have changed since the last call: those
    /// whose records or existence changed, and the owners of CNAMEs that
    /// lead to them.
    public mutating func takeChangedNames() -> Set<DNSName> {
        var result = changed
        var frontier = Array(changed)
        // CNAME chains are followed at most maxCNAMEChain deep in answers.
        for _ in 0..<Self.maxCNAMEChain where !frontier.isEmpty {
            var next: [DNSName] = []
            for target in frontier {
                guard let owners = cnameOwners[target] else { continue }
                for owner in owners.keys where result.insert(owner).inserted { next.append(owner) }
            }
            frontier = next
        }
        changed.removeAll()
        return result
    }

    public func rrset(_ name: DNSName, _ type: RecordType) -> [ResourceRecord] {
        guard let set = rrsets[name]?[type] else { return [] }
        return set.records.map { ResourceRecord(name, ttl: set.ttl, $0) }
    }

    /// Every record, in canonical order with the SOA first: what a zone
    /// file of this zone holds (RFC 1035 §5.2).
    public var records: [ResourceRecord] {
        rrsets.keys.sorted().flatMap { name in
            rrsets[name]!.keys.sorted { ($0 == .soa ? 0 : 1, $0) < ($1 == .soa ? 0 : 1, $1) }.flatMap { rrset(name, $0) }
        }
    }
}
