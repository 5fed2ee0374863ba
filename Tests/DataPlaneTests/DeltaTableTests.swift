import DataPlane
import Foundation
import RecordModel
import TestSupport
import Testing

/// A table published as deltas answers exactly as a table built whole from
/// the same objects, through any sequence of changes.
@Suite struct DeltaTableTests {
    /// Pods verified, so pod names come and go with pods.
    let options = RecordOptions(domain: try! DNSName("cluster.local"), pods: .verified)

    /// The options of each seed: from seed 4 on, k8s_external zones (one
    /// falling through) with headless services, services hidden while
    /// empty, endpoints named for their pods, the clients' index (whose
    /// names the table keeps but answers no query for), the clusterset
    /// zone's ServiceImports; from seed 6 on, only the
    /// namespaces that have a Namespace object (`namespace_labels`).
    func options(seed: UInt64) -> RecordOptions {
        var options = options
        if seed >= 4 {
            options.external = .init(
                zones: [try! DNSName("example.org"), try! DNSName("ext.test")], ttl: 7, headless: true,
                fallingThrough: [try! DNSName("ext.test")])
            options.ignoreEmptyServices = true
            options.endpointPodNames = true
            options.clientIndex = true
            options.multicluster = try! DNSName("clusterset.local")
        }
        if seed >= 6 { options.exposure = .namespaceObjects }
        return options
    }
    static let types: [UInt16] = [1, 28, 33, 12, 5, 255, 6, 2, 16]

    /// A random change to a small cluster: services of every kind (an
    /// ExternalName may point at another service, so CNAME chains cross
    /// objects), their slices, namespaces.
    func randomChange(_ store: ClusterRecordStore, _ random: inout SeededRandom) -> ObjectChange {
        let namespace = Int.random(in: 0..<8, using: &random) == 0 ? "kube-system" : "ns\(Int.random(in: 0..<3, using: &random))"
        let name = namespace == "kube-system" ? "kube-dns" : "s\(Int.random(in: 0..<6, using: &random))"
        let key = ObjectKey(namespace: namespace, name: name)
        let meta = ObjectMeta(name: name, namespace: namespace)
        switch Int.random(in: 0..<14, using: &random) {
        case 12:
            let headless = Bool.random(using: &random)
            let imported = ServiceImport(
                metadata: meta, headless: headless, ips: headless ? [] : ["10.9.0.\(Int.random(in: 1..<3, using: &random))"],
                ports: [Service.Port(name: "http", port: 80, protocol: "TCP")])
            return .serviceImport(key, Bool.random(using: &random) ? imported : nil)
        case 13:
            let cluster = ["east", "west"][Int.random(in: 0..<2, using: &random)]
            var sliceMeta = ObjectMeta(name: "\(name)-\(cluster)", namespace: namespace)
            sliceMeta.labels[ServiceImport.serviceNameLabel] = name
            sliceMeta.labels[ServiceImport.sourceClusterLabel] = cluster
            let endpoints = (0..<Int.random(in: 0..<3, using: &random)).map { i in
                EndpointSlice.Endpoint(
                    addresses: ["10.10.\(cluster == "east" ? 1 : 2).\(i + 1)"], hostname: i == 0 ? "host" : nil, ready: true)
            }
            return .endpointSlice(
                sliceMeta.key,
                EndpointSlice(
                    metadata: sliceMeta, addressType: "IPv4", endpoints: endpoints,
                    ports: [EndpointPort(name: "db", port: 5432, protocol: "TCP")]))
        case 0:
            return .service(key, nil)
        case 10:
            let ip = "10.2.0.\(Int.random(in: 1..<3, using: &random))"
            return .pod(key, Pod(metadata: meta, status: .init(podIP: ip)))
        case 11:
            return .pod(key, nil)
        case 1:
            return .namespace(namespace, Bool.random(using: &random) ? Namespace(metadata: ObjectMeta(name: namespace)) : nil)
        case 2:
            let target = "s\(Int.random(in: 0..<6, using: &random)).\(namespace).svc.cluster.local"
            return .service(
                key,
                Service(
                    metadata: meta, spec: .init(type: "ExternalName", externalName: Bool.random(using: &random) ? target : "example.org")))
        case 3, 4:
            let ips =
                ["10.0.\(Int.random(in: 0..<3, using: &random)).\(Int.random(in: 1..<4, using: &random))"]
                + (Bool.random(using: &random) ? ["fd00::\(Int.random(in: 1..<4, using: &random))"] : [])
            let ports = Bool.random(using: &random) ? [Service.Port(name: "http", port: 80, protocol: "TCP")] : []
            let external = [[], ["192.0.2.\(Int.random(in: 1..<3, using: &random))"], ["2001:db8::1", "192.0.2.9"]][
                Int.random(in: 0..<3, using: &random)]
            let balancer = Int.random(in: 0..<4, using: &random) == 0 ? ["lb.example.net"] : []
            return .service(
                key,
                Service(
                    metadata: meta,
                    spec: .init(clusterIP: ips[0], clusterIPs: ips, ports: ports, externalIPs: external, loadBalancerIngress: balancer)))
        case 5:
            return .service(
                key, Service(metadata: meta, spec: .init(clusterIP: "None", ports: [Service.Port(name: "db", port: 5432, protocol: "TCP")]))
            )
        case 6:
            return .endpointSlice(ObjectKey(namespace: namespace, name: name + "-a"), nil)
        default:
            var sliceMeta = ObjectMeta(name: name + "-a", namespace: namespace)
            sliceMeta.labels[EndpointSlice.serviceNameLabel] = name
            let endpoints = (0..<Int.random(in: 0..<4, using: &random)).map { i in
                EndpointSlice.Endpoint(
                    addresses: ["10.1.\(Int.random(in: 0..<2, using: &random)).\(i + 1)"],
                    hostname: i == 1 ? "host\(i)" : nil, ready: Bool.random(using: &random) || i == 0, podName: i == 2 ? "pod-\(i)" : nil)
            }
            return .endpointSlice(
                ObjectKey(namespace: namespace, name: name + "-a"),
                EndpointSlice(
                    metadata: sliceMeta, addressType: "IPv4", endpoints: endpoints,
                    ports: [EndpointPort(name: "db", port: 5432, protocol: "TCP")]))
        }
    }

    /// Every name of either table (and some that are in neither), every type.
    func answers(_ server: DNSServer, _ names: [String]) throws -> [String] {
        let socket = try LoopbackSocket(tcp: false, port: server.port)
        var result: [String] = []
        for name in names {
            for type in Self.types {
                socket.send(QueryPacket.make(id: 7, name: name, type: type, ednsSize: 4096))
                let reply = try #require(socket.receiveDatagram())
                result.append("\(name) \(type)\n" + ReplyCheck.normalized(reply))
            }
        }
        return result
    }

    /// A server on a free loopback port, answering from `table`.
    func started(_ table: consuming AnswerTable) throws -> DNSServer {
        let server = try DNSServer(.init(address: "127.0.0.1", port: 0, threads: 1), initial: table)
        try server.start()
        return server
    }

    /// A first load makes and indexes its contributions a run of 4,096
    /// Services at a time, the next run made while the last is indexed:
    /// addresses shared by Services of different runs, and headless
    /// Services in every run, answer as the whole zones do.
    @Test func aLoadInManyRunsAnswersAsTheWholeZones() throws {
        var objects = ClusterObjects()
        var names: [String] = []
        for i in 0..<9_000 {
            let meta = ObjectMeta(name: "s\(i)", namespace: "ns\(i % 3)")
            let name = "s\(i).ns\(i % 3).svc.cluster.local"
            if i % 500 == 7 {
                objects.services[meta.key] = Service(
                    metadata: meta, spec: .init(clusterIP: "None", ports: [Service.Port(name: "db", port: 5432, protocol: "TCP")]))
                var sliceMeta = ObjectMeta(name: "s\(i)-a", namespace: meta.namespace)
                sliceMeta.labels[EndpointSlice.serviceNameLabel] = meta.name
                let endpoints = (0..<3).map { e in
                    EndpointSlice.Endpoint(addresses: ["10.1.\(i / 256).\(e)"], hostname: e == 0 ? "host" : nil, ready: true)
                }
                objects.endpointSlices[sliceMeta.key] = EndpointSlice(
                    metadata: sliceMeta, addressType: "IPv4", endpoints: endpoints,
                    ports: [EndpointPort(name: "db", port: 5432, protocol: "TCP")])
                names += [name, "_db._tcp.\(name)", "host.\(name)", "0.\(i / 256).1.10.in-addr.arpa"]
            } else {
                // Service i and i + 5,000 (in another run) share an address.
                let ip = "10.0.\(i % 5_000 / 256).\(i % 5_000 % 256)"
                objects.services[meta.key] = Service(
                    metadata: meta, spec: .init(clusterIP: ip, ports: [Service.Port(name: "http", port: 80, protocol: "TCP")]))
                if i % 250 == 3 || i % 5_000 == 11 {
                    names += [name, "_http._tcp.\(name)", "\(i % 5_000 % 256).\(i % 5_000 / 256).0.10.in-addr.arpa"]
                }
            }
        }
        var store = ClusterRecordStore(options: options)
        store.load(objects)
        let whole = ClusterRecords.zones(for: objects, options: options)
        let reference = try started(try AnswerTable(whole))
        defer { reference.stop() }
        let loaded = try started(try AnswerTable(store.contents))
        defer { loaded.stop() }
        for (got, want) in zip(try answers(loaded, names), try answers(reference, names)) where got != want {
            Issue.record("loaded:\n\(got)\nwhole zones:\n\(want)")
            return
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7])
    func deltasAnswerAsAWholeTableDoes(_ seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let options = options(seed: seed)
        var store = ClusterRecordStore(options: options)
        store.load(ClusterObjects())
        let incremental = try started(try AnswerTable(store.contents))
        defer { incremental.stop() }
        var everName: Set<String> = [
            "nothing.ns0.svc.cluster.local", "1.0.0.10.in-addr.arpa", "nothing.ns0.example.org", "ns1.dns.example.org",
        ]
        for step in 0..<40 {
            let changes = (0..<Int.random(in: 1..<4, using: &random)).map { _ in randomChange(store, &random) }
            store.apply(changes)
            store.setSerial(UInt32(step + 1))
            try incremental.publish(store.zoneHeads, changes: store.takeChanges())

            // The references: the whole zones, and a store loaded from scratch.
            var referenceOptions = options
            referenceOptions.serial = UInt32(step + 1)
            let whole = ClusterRecords.zones(for: store.objects, options: referenceOptions)
            var fresh = ClusterRecordStore(options: referenceOptions)
            fresh.load(store.objects)
            let reference = try started(try AnswerTable(whole))
            defer { reference.stop() }
            let regions = try started(try AnswerTable(fresh.contents))
            defer { regions.stop() }
            for zone in whole.zones {
                everName.formUnion(zone.names.map { $0.description.hasSuffix(".") ? String($0.description.dropLast()) : $0.description })
            }
            let names = everName.sorted()
            let expected = try answers(reference, names)
            for (server, what) in [(incremental, "delta"), (regions, "regions")] {
                for (got, want) in zip(try answers(server, names), expected) where got != want {
                    Issue.record("step \(step) after \(changes):\n\(what):\n\(got)\nwhole zones:\n\(want)")
                    return
                }
            }
        }
    }
}
