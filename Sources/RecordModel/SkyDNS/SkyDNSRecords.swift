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

    /// The zone of `domain` from `records`, and what was skipped and why.
    /// `ttl` is the TTL of records without one (skydns's default, 3600)
    /// and the SOA's negative TTL is `minimumTTL` (skydns's 60).
    public static func zones(
        _ records: [(name: DNSName, value: String)], domain: DNSName, serial: UInt32, ttl: UInt32 = 3600, minimumTTL: UInt32 = 60
    ) -> ZoneSet {
        let soa = SOAData(
            primary: DNSName(validated: ["ns", "dns"], under: domain), mailbox: DNSName(validated: ["hostmaster"], under: domain),
            serial: serial, refresh: 28800, retry: 7200, expire: 604800, minimum: minimumTTL)
        var zone = Zone(apex: domain, authoritative: true, soa: soa, ttl: ttl)
        var problems: [String] = []
        // Each record goes to its own name and every name above it, up to the apex.
        var subtrees: [DNSName: [(name: DNSName, value: Value)]] = [:]
        for record in records.sorted(by: { $0.name < $1.name }) {
            guard record.name.isSubdomain(of: domain), record.name != domain else {
                problems.append("\(record.name) is not under \(domain)")
                continue
            }
            guard let value = Value(json: record.value) else {
                problems.append("\(record.name): not a skydns value: \(record.value.prefix(100))")
                continue
            }
            zone.addName(record.name)
            var current: DNSName? = record.name
            while let name = current, name != domain {
                subtrees[name, default: []].append((record.name, value))
                current = name.parent
            }
        }
        for (name, members) in subtrees {
            add(members, at: name, defaultTTL: ttl, to: &zone)
        }
        var set = ZoneSet(zones: [zone])
        set.problems = problems
        return set
    }

    private static func add(_ members: [(name: DNSName, value: Value)], at name: DNSName, defaultTTL: UInt32, to zone: inout Zone) {
        var hasAddress = false
        for member in members {
            if let ip = IPAddress(member.value.host) {
                zone.add(ResourceRecord(name, ttl: member.value.ttl ?? defaultTTL, .address(ip)))
                hasAddress = true
            }
        }
        if !hasAddress,
            let alias = members.first(where: { $0.value.port == nil && IPAddress($0.value.host) == nil && target($0.value.host) != name }),
            let target = target(alias.value.host)
        {
            zone.add(ResourceRecord(name, ttl: alias.value.ttl ?? defaultTTL, .cname(target)))
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
            zone.add(ResourceRecord(
                name, ttl: value.ttl ?? defaultTTL,
                .srv(priority: UInt16(clamping: value.priority), weight: UInt16(clamping: weight), port: UInt16(clamping: port), target: target)))
        }
    }

    private static func target(_ host: String) -> DNSName? { try? DNSName(host) }
}
