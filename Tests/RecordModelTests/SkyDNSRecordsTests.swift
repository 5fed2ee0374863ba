import Foundation
import RecordModel
import Testing

/// skydns's answers from kube2sky's records and from hand-written ones.
@Suite struct SkyDNSRecordsTests {
    static func value(_ host: String, port: Int? = nil, ttl: Int = 30) -> String {
        let port = port.map { #","port":\#($0)"# } ?? ""
        return #"{"host":"\#(host)"\#(port),"priority":10,"weight":10,"ttl":\#(ttl),"targetstrip":0}"#
    }

    static let domain = try! DNSName("cluster.local")

    static func records() throws -> [SkyDNSRecords.Record] {
        try [
            // kube2sky: a ClusterIP service with a named port.
            (try DNSName("21172049.kube-dns.kube-system.svc.cluster.local"), value("10.0.0.10")),
            (
                try DNSName("21172049._dns._udp.kube-dns.kube-system.svc.cluster.local"),
                value("kube-dns.kube-system.svc.cluster.local.", port: 53)
            ),
            // kube2sky: a headless service, one endpoint with a hostname, one without.
            (try DNSName("db-0.db.prod.svc.cluster.local"), value("10.1.0.1")),
            (try DNSName("6c6e1f3a.db.prod.svc.cluster.local"), value("10.1.0.2")),
            (try DNSName("db-0._pg._tcp.db.prod.svc.cluster.local"), value("db-0.db.prod.svc.cluster.local.", port: 5432)),
            (try DNSName("6c6e1f3a._pg._tcp.db.prod.svc.cluster.local"), value("6c6e1f3a.db.prod.svc.cluster.local.", port: 5432)),
            // By hand: a CNAME, an IPv6 address with its own TTL, values skydns would not take.
            (try DNSName("alias.cluster.local"), #"{"host":"example.org"}"#),
            (try DNSName("v6.cluster.local"), #"{"host":"fd00::1","ttl":120}"#),
        ].map { key in try SkyDNSRecords.Record(name: key.0, json: key.1, domain: domain) }
    }

    static func zones(_ records: [SkyDNSRecords.Record], serial: UInt32 = 1) -> ZoneSet {
        var tree = SkyDNSTree(domain: domain)
        for record in records { tree.put(record) }
        return tree.wholeZones(serial: serial)
    }

    static func answer(_ zones: ZoneSet, _ name: String, _ type: RecordType) throws -> [String] {
        // "TYPE TTL DATA", from the record's zone-file line (name TTL IN TYPE DATA).
        zones.answer(try DNSName(name), type).answer.map { record in
            let fields = record.description.split(separator: " ", maxSplits: 4).map(String.init)
            return "\(fields[3].uppercased()) \(fields[1]) \(fields[4])"
        }.sorted()
    }

    @Test func aNameAnswersForItsSubtree() throws {
        let zones = Self.zones(try Self.records())
        #expect(try Self.answer(zones, "kube-dns.kube-system.svc.cluster.local", .a) == ["A 30 10.0.0.10"])
        #expect(try Self.answer(zones, "21172049.kube-dns.kube-system.svc.cluster.local", .a) == ["A 30 10.0.0.10"])
        #expect(
            try Self.answer(zones, "_dns._udp.kube-dns.kube-system.svc.cluster.local", .srv)
                == ["SRV 30 10 100 53 kube-dns.kube-system.svc.cluster.local."])
        #expect(try Self.answer(zones, "db.prod.svc.cluster.local", .a) == ["A 30 10.1.0.1", "A 30 10.1.0.2"])
        #expect(try Self.answer(zones, "db-0.db.prod.svc.cluster.local", .a) == ["A 30 10.1.0.1"])
        #expect(
            try Self.answer(zones, "_pg._tcp.db.prod.svc.cluster.local", .srv) == [
                "SRV 30 10 50 5432 6c6e1f3a.db.prod.svc.cluster.local.", "SRV 30 10 50 5432 db-0.db.prod.svc.cluster.local.",
            ])
        #expect(try Self.answer(zones, "alias.cluster.local", .cname) == ["CNAME 3600 example.org."])
        #expect(try Self.answer(zones, "v6.cluster.local", .aaaa) == ["AAAA 120 fd00::1"])
        #expect(zones.answer(try DNSName("nothing.cluster.local"), .a).rcode == .nxDomain)
        #expect(zones.answer(try DNSName("_tcp.db.prod.svc.cluster.local"), .a).answer.isEmpty)
    }

    @Test func keysThatMakeNoRecordSayWhy() throws {
        #expect {
            try SkyDNSRecords.Record(name: try DNSName("broken.cluster.local"), json: "{not json", domain: Self.domain)
        } throws: { "\($0)".hasPrefix("broken.cluster.local.: not a skydns value") }
        #expect {
            try SkyDNSRecords.Record(name: try DNSName("elsewhere.example.org"), json: Self.value("10.9.9.9"), domain: Self.domain)
        } throws: { "\($0)" == "elsewhere.example.org. is not under cluster.local." }
        #expect(throws: SkyDNSRecordError.self) {
            try SkyDNSRecords.Record(name: Self.domain, json: Self.value("10.9.9.9"), domain: Self.domain)
        }
    }

    /// Every service's records meet above them (svc.<domain>): a thousand
    /// headless services of twenty endpoints each, at once.
    @Test func manyRecordsUnderOneNameStayDistinct() throws {
        var records: [SkyDNSRecords.Record] = []
        for service in 0..<1000 {
            for endpoint in 0..<20 {
                let name = try DNSName("e\(endpoint).s\(service).ns.svc.cluster.local")
                records.append(
                    try .init(name: name, json: Self.value("10.\(service / 250).\(service % 250).\(endpoint)"), domain: Self.domain))
            }
        }
        // The same record under another key adds nothing to the names above it.
        records.append(try .init(name: try DNSName("again.s0.ns.svc.cluster.local"), json: Self.value("10.0.0.0"), domain: Self.domain))
        let zones = Self.zones(records)
        #expect(zones.answer(try DNSName("svc.cluster.local"), .a).answer.count == 20_000)
        #expect(zones.answer(try DNSName("s0.ns.svc.cluster.local"), .a).answer.count == 20)
    }

    /// An answer, its sections' records sorted (a set's order is free).
    static func canonical(_ answer: Answer?) -> String {
        guard let answer else { return "none" }
        return
            "\(answer.rcode) \(answer.answer.map(\.description).sorted()) \(answer.authority.map(\.description)) \(answer.additional.map(\.description).sorted())"
    }

    /// After any changes, the names a delta answers again answer as the
    /// whole zone of the new keys does, and every other name as before.
    @Test func deltasAnswerAsTheWholeZoneDoes() throws {
        let record = { (name: String, json: String) in try SkyDNSRecords.Record(name: try DNSName(name), json: json, domain: Self.domain) }
        var tree = SkyDNSTree(domain: Self.domain)
        for each in try Self.records() { tree.put(each) }
        try tree.put(record("hand.cluster.local", #"{"host":"db-0.db.prod.svc.cluster.local"}"#))
        let before = tree.wholeZones(serial: 1)

        // An endpoint moves (the SRV owner's glue and the alias's chain read it),
        // another goes, a service comes, a CNAME is retargeted, a key goes bad.
        try tree.put(record("db-0.db.prod.svc.cluster.local", Self.value("10.1.0.9")))
        tree.remove(try DNSName("6c6e1f3a.db.prod.svc.cluster.local"))
        tree.remove(try DNSName("6c6e1f3a._pg._tcp.db.prod.svc.cluster.local"))
        try tree.put(record("1.web.prod.svc.cluster.local", Self.value("10.2.0.1")))
        try tree.put(record("alias.cluster.local", #"{"host":"web.prod.svc.cluster.local"}"#))
        tree.remove(try DNSName("v6.cluster.local"))
        let (_, changes) = tree.takeChanges(serial: 1)

        var fresh = SkyDNSTree(domain: Self.domain)
        var final = try Self.records().filter {
            !["6c6e1f3a", "v6"].contains($0.name.label(0)) && $0.name.description != "db-0.db.prod.svc.cluster.local."
                && $0.name.label(0) != "alias"
        }
        final += [
            try record("hand.cluster.local", #"{"host":"db-0.db.prod.svc.cluster.local"}"#),
            try record("db-0.db.prod.svc.cluster.local", Self.value("10.1.0.9")),
            try record("1.web.prod.svc.cluster.local", Self.value("10.2.0.1")),
            try record("alias.cluster.local", #"{"host":"web.prod.svc.cluster.local"}"#),
        ]
        for each in final { fresh.put(each) }
        let after = fresh.wholeZones(serial: 1)

        let regions = Dictionary(uniqueKeysWithValues: changes.answered.flatMap { region in region.names.map { ($0, region.zone) } })
        #expect(regions.keys.contains(try DNSName("_pg._tcp.db.prod.svc.cluster.local")))
        #expect(regions.keys.contains(try DNSName("hand.cluster.local")))
        #expect(changes.removed.contains(try DNSName("v6.cluster.local")))
        let names = Set(before.zones[0].names).union(after.zones[0].names).subtracting([Self.domain])
        for name in names {
            for type in [RecordType.a, .aaaa, .srv, .cname] {
                let expected = Self.canonical(after.zones[0].answer(name, type))
                let got: String =
                    if let zone = regions[name] { Self.canonical(zone.answer(name, type)) } else if changes.removed.contains(name) {
                        "none"
                    } else { Self.canonical(before.zones[0].answer(name, type)) }
                #expect(got == expected, "\(name) \(type)")
            }
        }
    }

    @Test func valuesWithAndWithoutTargetstrip() {
        #expect(SkyDNSRecords.Value(json: #"{"host":"10.0.0.10","priority":10,"weight":10,"ttl":30}"#)?.ttl == 30)
        #expect(SkyDNSRecords.Value(json: #"{"host":"10.0.0.10","priority":10,"weight":10,"ttl":30,"targetstrip":0}"#)?.host == "10.0.0.10")
        #expect(SkyDNSRecords.Value(json: #"{"port":80}"#) == nil)
    }
}
