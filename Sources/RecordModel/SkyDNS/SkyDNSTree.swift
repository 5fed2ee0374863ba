/// The records under a domain in etcd, and skydns's answers from them, kept
/// change by change: a key put or deleted changes the answers of its name
/// and of every name above it (each answers for its subtree), and of the
/// names whose CNAME or SRV records point at those; only they are answered
/// again. So a change costs what those names hold, not the whole domain.
public struct SkyDNSTree: Sendable {
    public let domain: DNSName
    /// TTL of records without one (skydns's default, 3600).
    public let ttl: UInt32
    /// The SOA's negative TTL (skydns's 60).
    public let minimumTTL: UInt32

    /// For each name that exists (below the apex): the records at or below
    /// it, by the names their keys stand for.
    private var subtrees: [DNSName: [DNSName: SkyDNSRecords.Record]] = [:]
    /// The names each name's CNAME and SRV records point at, and back.
    private var targets: [DNSName: Set<DNSName>] = [:]
    private var referrers: [DNSName: Set<DNSName>] = [:]
    /// Names whose records changed since `takeChanges`.
    private var changed: Set<DNSName> = []

    public init(domain: DNSName, ttl: UInt32 = 3600, minimumTTL: UInt32 = 60) {
        self.domain = domain
        self.ttl = ttl
        self.minimumTTL = minimumTTL
    }

    /// How many keys make records.
    public private(set) var recordCount = 0

    /// A key put (its record) or deleted (the name it stood for).
    public enum Event: Sendable {
        case put(SkyDNSRecords.Record)
        case remove(DNSName)
    }

    public mutating func apply(_ event: Event) {
        switch event {
        case .put(let record): put(record)
        case .remove(let name): remove(name)
        }
    }

    /// Puts a key's record (a new value replaces the old one).
    public mutating func put(_ record: SkyDNSRecords.Record) {
        if subtrees[record.name]?[record.name] == nil { recordCount += 1 }
        for name in lineage(record.name) {
            subtrees[name, default: [:]][record.name] = record
            changed.insert(name)
        }
    }

    /// Removes the record of the key that stands for `name`.
    public mutating func remove(_ name: DNSName) {
        guard subtrees[name]?[name] != nil else { return }
        recordCount -= 1
        for ancestor in lineage(name) {
            subtrees[ancestor]?[name] = nil
            if subtrees[ancestor]?.isEmpty == true { subtrees[ancestor] = nil }
            changed.insert(ancestor)
        }
    }

    /// The whole zone, with `serial`; what changed before is taken with it.
    public mutating func wholeZones(serial: UInt32) -> ZoneSet {
        changed.removeAll()
        targets.removeAll()
        referrers.removeAll()
        var zone = Zone(apex: domain, authoritative: true, soa: soa(serial: serial), ttl: ttl)
        for name in subtrees.keys {
            let own = records(at: name)
            index(name, own)
            zone.add(distinct: own)
        }
        return ZoneSet(zones: [zone])
    }

    /// The apex (the zone with its SOA of `serial`, and nothing below it),
    /// and the names to answer again or drop since the last call.
    public mutating func takeChanges(serial: UInt32) -> (heads: ZoneSet, changes: ZoneChanges) {
        let head = Zone(apex: domain, authoritative: true, soa: soa(serial: serial), ttl: ttl)
        var changes = ZoneChanges()
        var answered: [DNSName: [ResourceRecord]] = [:]
        for name in changed {
            let own = subtrees[name] == nil ? [] : records(at: name)
            index(name, own)
            answered[name] = own
        }
        // Names whose answers read the changed ones: CNAME chains and SRV glue.
        var affected = changed
        var frontier = changed
        for _ in 0..<Zone.maxCNAMEChain where !frontier.isEmpty {
            var next: Set<DNSName> = []
            for name in frontier {
                for referrer in referrers[name] ?? [] where affected.insert(referrer).inserted { next.insert(referrer) }
            }
            frontier = next
        }
        changed.removeAll()
        for name in affected {
            guard subtrees[name] != nil else {
                changes.removed.append(name)
                continue
            }
            var zone = Zone(emptyLike: head)
            zone.add(distinct: answered[name] ?? records(at: name))
            // The names its answers read: SRV targets' addresses, CNAME chains;
            // not for an RRset too big for any message, whose additional
            // section the data plane drops (as it does from the whole zone).
            let own = zone.rrsets[name]?[.srv]?.records.count ?? 0
            var reached: Set<DNSName> = [name]
            var pending = own > Self.mostRecordsInAMessage ? [] : (targets[name] ?? []).map { ($0, 1) }
            while let (target, depth) = pending.popLast() {
                guard reached.insert(target).inserted, subtrees[target] != nil else { continue }
                zone.add(distinct: answered[target] ?? records(at: target))
                if depth < Zone.maxCNAMEChain { pending += (targets[target] ?? []).map { ($0, depth + 1) } }
            }
            changes.answered.append(ZoneNames(zone: zone, names: [name]))
        }
        return (ZoneSet(zones: [head]), changes)
    }

    /// More records than a 64 KiB message can hold (each takes at least
    /// 16 bytes, even with its owner compressed to a pointer).
    static let mostRecordsInAMessage = 65535 / 16

    /// `name` and the names above it, below the apex.
    private func lineage(_ name: DNSName) -> [DNSName] {
        var result: [DNSName] = []
        var current: DNSName? = name
        while let each = current, each != domain, each.isSubdomain(of: domain) {
            result.append(each)
            current = each.parent
        }
        return result
    }

    private func records(at name: DNSName) -> [ResourceRecord] {
        SkyDNSRecords.records(of: (subtrees[name] ?? [:]).values, at: name, defaultTTL: ttl)
    }

    /// Notes what `name`'s records point at, for the answers that read them.
    private mutating func index(_ name: DNSName, _ own: [ResourceRecord]) {
        var now: Set<DNSName> = []
        for record in own {
            switch record.data {
            case .cname(let target): now.insert(target)
            default: if let target = record.data.target { now.insert(target) }
            }
        }
        let before = targets[name] ?? []
        for gone in before.subtracting(now) {
            referrers[gone]?.remove(name)
            if referrers[gone]?.isEmpty == true { referrers[gone] = nil }
        }
        for new in now.subtracting(before) { referrers[new, default: []].insert(name) }
        targets[name] = now.isEmpty ? nil : now
    }

    private func soa(serial: UInt32) -> SOAData {
        SOAData(
            primary: DNSName(validated: ["ns", "dns"], under: domain), mailbox: DNSName(validated: ["hostmaster"], under: domain),
            serial: serial, refresh: 28800, retry: 7200, expire: 604800, minimum: minimumTTL)
    }
}
