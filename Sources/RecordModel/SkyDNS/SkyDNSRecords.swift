import Foundation

/// skydns's answers (skydns 2.5, as the Kubernetes 1.2 pod ran it) from
/// the records under `/skydns`, each given as the name its key stands for
/// (the leaf label included: `21172049.kube-dns.kube-system.svc.cluster.local`)
/// and its JSON value. A name answers for every record in its subtree, as
/// skydns's recursive read of a key does:
/// - A/AAAA: every record whose `host` is an address;
/// - SRV: every record with a `port`, its weight normalised per priority
///   (`100 / sum × weight`, weight 0 counting as 100), the target its
///   `host` when that is a name, else the record's own name;
/// - CNAME: where there is no address, the first port-less record whose
///   `host` is a name other than the name itself (skydns skips `x CNAME x`,
///   which is why kube2sky's SRV records vanish from A answers).
/// Where skydns would mix a CNAME with addresses, the addresses win: a zone
/// cannot hold both. The apex keeps its SOA and NS, not the whole tree's
/// addresses.
public enum SkyDNSRecords {
    /// One record's value (`host`, `port`, `priority`, `weight`, `ttl`;
    /// `targetstrip` and other fields are accepted and ignored).
    public struct Value: Equatable, Sendable {
        public var host: String
        public var port: Int?
        public var priority: Int
        public var weight: Int
        public var ttl: UInt32?

        public init?(json: String) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                let host = object["host"] as? String, !host.isEmpty
            else { return nil }
            self.host = host
            port = (object["port"] as? NSNumber)?.intValue
            priority = (object["priority"] as? NSNumber)?.intValue ?? 10
            weight = (object["weight"] as? NSNumber)?.intValue ?? 0
            ttl = (object["ttl"] as? NSNumber).map { UInt32(clamping: $0.intValue) }
        }
    }

    /// One key's record: the name its path stands for (its leaf label
    /// included) and its value.
    public struct Record: Sendable {
        public var name: DNSName
        public var value: Value

        /// The record of a key, or why the key makes none: its name is not
        /// under `domain`, or its value is not skydns's JSON.
        public init(name: DNSName, json: String, domain: DNSName) throws(SkyDNSRecordError) {
            guard name.isSubdomain(of: domain), name != domain else { throw SkyDNSRecordError("\(name) is not under \(domain)") }
            guard let value = Value(json: json) else { throw SkyDNSRecordError("\(name): not a skydns value: \(json.prefix(100))") }
            self.name = name
            self.value = value
        }
    }

    /// The zone of `domain` from `records` (each under `domain`: see `Record`).
    /// `ttl` is the TTL of records without one (skydns's default, 3600)
    /// and the SOA's negative TTL is `minimumTTL` (skydns's 60).
    public static func zones(
        _ records: some Collection<Record>, domain: DNSName, serial: UInt32, ttl: UInt32 = 3600, minimumTTL: UInt32 = 60
    ) -> ZoneSet {
        let soa = SOAData(
            primary: DNSName(validated: ["ns", "dns"], under: domain), mailbox: DNSName(validated: ["hostmaster"], under: domain),
            serial: serial, refresh: 28800, retry: 7200, expire: 604800, minimum: minimumTTL)
        var zone = Zone(apex: domain, authoritative: true, soa: soa, ttl: ttl)
        // Each record goes to its own name and every name above it, up to the apex.
        var subtrees: [DNSName: [Record]] = [:]
        for record in records {
            zone.addName(record.name)
            var current: DNSName? = record.name
            while let name = current, name != domain {
                subtrees[name, default: []].append(record)
                current = name.parent
            }
        }
        for (name, members) in subtrees {
            // In key order, so the CNAME chosen and the records' order do not depend on etcd's.
            zone.add(distinct: Self.records(of: members.sorted { $0.name < $1.name }, at: name, defaultTTL: ttl))
        }
        return ZoneSet(zones: [zone])
    }

    /// The distinct records a name has from the records below it.
    private static func records(of members: [Record], at name: DNSName, defaultTTL: UInt32) -> [ResourceRecord] {
        var result: [ResourceRecord] = []
        var seen: Set<RecordData> = []
        func add(_ ttl: UInt32?, _ data: RecordData) {
            if seen.insert(data).inserted { result.append(ResourceRecord(name, ttl: ttl ?? defaultTTL, data)) }
        }
        var hasAddress = false
        for member in members {
            if let ip = IPAddress(member.value.host) {
                add(member.value.ttl, .address(ip))
                hasAddress = true
            }
        }
        if !hasAddress,
            let alias = members.first(where: { $0.value.port == nil && IPAddress($0.value.host) == nil && target($0.value.host) != name }),
            let target = target(alias.value.host)
        {
            add(alias.value.ttl, .cname(target))
        }
        let services = members.filter { $0.value.port != nil }
        let weightSums = Dictionary(grouping: services, by: { $0.value.priority }).mapValues { group in
            group.reduce(0) { $0 + ($1.value.weight == 0 ? 100 : $1.value.weight) }
        }
        for service in services {
            let value = service.value
            guard let port = value.port, let sum = weightSums[value.priority], sum > 0,
                let target = IPAddress(value.host) == nil ? target(value.host) : service.name
            else { continue }
            let weight = (100 * (value.weight == 0 ? 100 : value.weight)) / sum
            add(value.ttl, .srv(priority: UInt16(clamping: value.priority), weight: UInt16(clamping: weight), port: UInt16(clamping: port), target: target))
        }
        return result
    }

    private static func target(_ host: String) -> DNSName? { try? DNSName(host) }
}

/// Why a key under `/skydns` makes no record.
public struct SkyDNSRecordError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
