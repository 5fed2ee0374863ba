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
/// addresses. `SkyDNSTree` keeps the records and answers by name.
public enum SkyDNSRecords {
    /// One record's value (`host`, `port`, `priority`, `weight`, `ttl`;
    /// `targetstrip` and other fields are accepted and ignored).
    public struct Value: Equatable, Sendable {
        public var host: String
        public var port: Int?
        public var priority: Int
        public var weight: Int
        public var ttl: UInt32?
        /// `host` read once: an address, or else a name.
        public var address: IPAddress?
        public var hostName: DNSName?

        public init?(json: String) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                let host = object["host"] as? String, !host.isEmpty
            else { return nil }
            self.host = host
            port = (object["port"] as? NSNumber)?.intValue
            priority = (object["priority"] as? NSNumber)?.intValue ?? 10
            weight = (object["weight"] as? NSNumber)?.intValue ?? 0
            ttl = (object["ttl"] as? NSNumber).map { UInt32(clamping: $0.intValue) }
            address = IPAddress(host)
            hostName = address == nil ? try? DNSName(host) : nil
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

    /// The distinct records a name has from the records at and below it
    /// (`members`, in any order).
    static func records(of members: some Sequence<Record>, at name: DNSName, defaultTTL: UInt32) -> [ResourceRecord] {
        var result: [ResourceRecord] = []
        var seen: Set<RecordData> = []
        func add(_ ttl: UInt32?, _ data: RecordData) {
            if seen.insert(data).inserted { result.append(ResourceRecord(name, ttl: ttl ?? defaultTTL, data)) }
        }
        var alias: Record?
        var weightSums: [Int: Int] = [:]
        for member in members {
            let value = member.value
            if let ip = value.address { add(value.ttl, .address(ip)) }
            if value.port != nil {
                weightSums[value.priority, default: 0] += value.weight == 0 ? 100 : value.weight
            } else if let target = value.hostName, target != name,
                alias == nil || member.name.wire.lexicographicallyPrecedes(alias!.name.wire)
            {
                // The first by key, whatever order etcd gave them in.
                alias = member
            }
        }
        if result.isEmpty, let alias, let target = alias.value.hostName { add(alias.value.ttl, .cname(target)) }
        for member in members {
            let value = member.value
            guard let port = value.port, let sum = weightSums[value.priority], sum > 0,
                let target = value.address == nil ? value.hostName : member.name
            else { continue }
            let weight = (100 * (value.weight == 0 ? 100 : value.weight)) / sum
            add(
                value.ttl,
                .srv(
                    priority: UInt16(clamping: value.priority), weight: UInt16(clamping: weight), port: UInt16(clamping: port),
                    target: target))
        }
        return result
    }
}

/// Why a key under `/skydns` makes no record.
public struct SkyDNSRecordError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
