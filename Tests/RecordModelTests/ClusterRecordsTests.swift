import Foundation
import JSONDecoding
import RecordModel
import Testing

/// Rules of the record model that the answer table does not show.
@Suite struct ClusterRecordsTests {
    let domain = try! DNSName("cluster.local")

    func service(_ name: String, _ namespace: String, clusterIP: String?, ports: [Service.Port] = []) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: namespace), spec: .init(clusterIP: clusterIP, ports: ports))
    }

    func slice(_ name: String, for service: String, _ endpoints: [EndpointSlice.Endpoint], ports: [EndpointPort] = []) -> EndpointSlice {
        EndpointSlice(
            metadata: ObjectMeta(name: name, namespace: "ns", labels: [EndpointSlice.serviceNameLabel: service]),
            addressType: "IPv4", endpoints: endpoints, ports: ports)
    }

    func names(_ zones: ZoneSet) -> Set<String> { Set(zones.zones[0].names.map(\.description)) }

    /// The apexes, with their SOAs, are answered again only for a new serial.
    @Test func onlyANewSerialChangesTheApexes() throws {
        var store = ClusterRecordStore(options: RecordOptions(domain: domain, serial: 5))
        store.load(ClusterObjects())
        store.setSerial(5)
        #expect(!store.hasChanges)
        store.setSerial(6)
        #expect(store.hasChanges)
        let serials = store.zoneHeads.zones.map { zone -> UInt32? in
            guard case .soa(let soa) = zone.soa.data else { return nil }
            return soa.serial
        }
        #expect(serials == [6, 6, 6])
    }

    @Test func podNamesFollowThePodsMode() throws {
        var objects = ClusterObjects()
        objects.namespaces["ns"] = Namespace(metadata: ObjectMeta(name: "ns"))
        objects.pods[ObjectKey(namespace: "ns", name: "p")] = Pod(
            metadata: ObjectMeta(name: "p", namespace: "ns"), status: .init(phase: "Running", podIP: "10.1.2.3"))
        objects.pods[ObjectKey(namespace: "ns", name: "done")] = Pod(
            metadata: ObjectMeta(name: "done", namespace: "ns"), status: .init(phase: "Failed", podIP: "10.1.2.4"))

        let insecure = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain, pods: .insecure))
        #expect(insecure.podSynthesis == .init(suffix: try DNSName("pod.cluster.local"), ttl: 30))
        #expect(names(insecure).contains("ns.pod.cluster.local."))
        #expect(!names(insecure).contains("10-1-2-3.ns.pod.cluster.local."))

        let verified = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain, pods: .verified))
        #expect(verified.podSynthesis == nil)
        let answer = verified.answer(try DNSName("10-1-2-3.ns.pod.cluster.local"), .a)
        #expect(answer.answer.map(\.description) == ["10-1-2-3.ns.pod.cluster.local. 30 IN A 10.1.2.3"])
        #expect(verified.answer(try DNSName("10-1-2-4.ns.pod.cluster.local"), .a).rcode == .nxDomain)

        let disabled = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain, pods: .disabled))
        #expect(disabled.podSynthesis == nil)
        #expect(disabled.answer(try DNSName("pod.cluster.local"), .a).rcode == .nxDomain)
    }

    @Test func slicesWinOverEndpointsAndAddressesAreNotRepeated() throws {
        var objects = ClusterObjects()
        objects.services[ObjectKey(namespace: "ns", name: "h")] = service("h", "ns", clusterIP: "None")
        let endpoint = EndpointSlice.Endpoint(addresses: ["10.0.0.5"], hostname: "h-0", ready: true)
        objects.endpointSlices[ObjectKey(namespace: "ns", name: "a")] = slice("a", for: "h", [endpoint])
        // The same endpoint in a second slice, as during a slice handover.
        objects.endpointSlices[ObjectKey(namespace: "ns", name: "b")] = slice("b", for: "h", [endpoint])
        objects.endpoints[ObjectKey(namespace: "ns", name: "h")] = Endpoints(
            metadata: ObjectMeta(name: "h", namespace: "ns"), subsets: [.init(addresses: [.init(ip: "10.0.0.6")])])
        let zones = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain))
        let answer = zones.answer(try DNSName("h.ns.svc.cluster.local"), .a)
        #expect(answer.answer.map(\.description) == ["h.ns.svc.cluster.local. 30 IN A 10.0.0.5"])
    }

    /// Each endpoint keeps its first address inline, and any others after
    /// it: all of them are published, in order, and none from an empty list.
    @Test func everyAddressOfAnEndpointIsPublished() throws {
        let json = """
            {"metadata": {"name": "a", "namespace": "ns", "labels": {"kubernetes.io/service-name": "h"}},
             "addressType": "IPv4",
             "endpoints": [{"addresses": ["10.0.0.3", "10.0.0.1", "10.0.0.2"]}, {"addresses": []}, {"addresses": ["10.0.0.4"]}]}
            """
        let slice = try JSONNode.decode(EndpointSlice.self, from: json.utf8)
        #expect(slice.endpoints.map { Array($0.addresses) } == [["10.0.0.3", "10.0.0.1", "10.0.0.2"], [], ["10.0.0.4"]])
        var objects = ClusterObjects()
        objects.services[ObjectKey(namespace: "ns", name: "h")] = service("h", "ns", clusterIP: "None")
        objects.endpointSlices[ObjectKey(namespace: "ns", name: "a")] = slice
        let zones = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain))
        let answer = zones.answer(try DNSName("h.ns.svc.cluster.local"), .a)
        #expect(Set(answer.answer.map(\.data.text)) == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"])
    }

    @Test func srvWeightsShareOneHundred() throws {
        var objects = ClusterObjects()
        objects.services[ObjectKey(namespace: "ns", name: "h")] = service("h", "ns", clusterIP: "None")
        let endpoints = (1...3).map { EndpointSlice.Endpoint(addresses: ["10.0.0.\($0)"]) }
        objects.endpointSlices[ObjectKey(namespace: "ns", name: "a")] = slice(
            "a", for: "h", endpoints, ports: [EndpointPort(name: "p", port: 80, protocol: "TCP")])
        let zones = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain))
        let srv = zones.answer(try DNSName("_p._tcp.h.ns.svc.cluster.local"), .srv)
        #expect(srv.answer.count == 3)
        #expect(srv.answer.allSatisfy { $0.data.text.hasPrefix("0 33 80 10-0-0-") })
        #expect(srv.additional.count == 3)
    }

    /// Two endpoints of one hostname (two slices with the same port, in a
    /// rollout) are one SRV target: the weights count targets, not endpoints.
    @Test func endpointsOfOneHostnameAreOneSRVTarget() throws {
        var objects = ClusterObjects()
        objects.services[ObjectKey(namespace: "ns", name: "h")] = service("h", "ns", clusterIP: "None")
        let port = [EndpointPort(name: "p", port: 80, protocol: "TCP")]
        objects.endpointSlices[ObjectKey(namespace: "ns", name: "a")] = slice(
            "a", for: "h", [.init(addresses: ["10.0.0.1"], hostname: "web"), .init(addresses: ["10.0.0.3"])], ports: port)
        objects.endpointSlices[ObjectKey(namespace: "ns", name: "b")] = slice(
            "b", for: "h", [.init(addresses: ["10.0.0.2"], hostname: "web")], ports: port)
        let zones = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain))
        let srv = zones.answer(try DNSName("_p._tcp.h.ns.svc.cluster.local"), .srv)
        #expect(Set(srv.answer.map(\.data.text)) == ["0 50 80 web.h.ns.svc.cluster.local.", "0 50 80 10-0-0-3.h.ns.svc.cluster.local."])
        let web = zones.answer(try DNSName("web.h.ns.svc.cluster.local"), .a)
        #expect(Set(web.answer.map(\.data.text)) == ["10.0.0.1", "10.0.0.2"])
    }

    /// Spec §2.4.1: an endpoint gets SRV records for its own slice's ports.
    @Test func eachSliceGivesItsEndpointsItsOwnPorts() throws {
        var objects = ClusterObjects()
        objects.services[ObjectKey(namespace: "ns", name: "h")] = service("h", "ns", clusterIP: "None")
        objects.endpointSlices[ObjectKey(namespace: "ns", name: "a")] = slice(
            "a", for: "h", [EndpointSlice.Endpoint(addresses: ["10.0.0.1"])], ports: [EndpointPort(name: "web", port: 80)])
        objects.endpointSlices[ObjectKey(namespace: "ns", name: "b")] = slice(
            "b", for: "h", [EndpointSlice.Endpoint(addresses: ["10.0.0.2"])], ports: [EndpointPort(name: "rpc", port: 9090)])
        let zones = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain))
        let web = zones.answer(try DNSName("_web._tcp.h.ns.svc.cluster.local"), .srv)
        #expect(web.answer.map(\.data.text) == ["0 100 80 10-0-0-1.h.ns.svc.cluster.local."])
        let rpc = zones.answer(try DNSName("_rpc._tcp.h.ns.svc.cluster.local"), .srv)
        #expect(rpc.answer.map(\.data.text) == ["0 100 9090 10-0-0-2.h.ns.svc.cluster.local."])
    }

    @Test func ttlAppliesToRecordsAndNegativeAnswers() throws {
        var objects = ClusterObjects()
        objects.services[ObjectKey(namespace: "ns", name: "s")] = service("s", "ns", clusterIP: "10.0.0.1")
        let zones = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain, ttl: 5, serial: 77))
        #expect(zones.answer(try DNSName("s.ns.svc.cluster.local"), .a).answer.first?.ttl == 5)
        let negative = zones.answer(try DNSName("x.ns.svc.cluster.local"), .a)
        #expect(
            negative.authority.map(\.description) == [
                "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 77 7200 1800 86400 5"
            ])
    }

    @Test func objectsThatMakeNoNameAreReported() throws {
        var objects = ClusterObjects()
        objects.services[ObjectKey(namespace: "ns", name: "bad_name")] = service("bad_name", "ns", clusterIP: "10.0.0.1")
        let ext = Service(
            metadata: ObjectMeta(name: "e", namespace: "ns"), spec: .init(type: "ExternalName", externalName: "10.1.1.1"))
        objects.services[ObjectKey(namespace: "ns", name: "e")] = ext
        let zones = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain))
        #expect(zones.problems.count == 1)
        #expect(zones.problems.first?.contains("ns/e") == true)
        // A name with an underscore is still a valid DNS name, served as such.
        #expect(zones.answer(try DNSName("bad_name.ns.svc.cluster.local"), .a).rcode == .noError)
        #expect(zones.answer(try DNSName("e.ns.svc.cluster.local"), .cname).rcode == .nxDomain)
    }

    @Test func beforeTheFirstLoadClusterNamesAreServfail() throws {
        let zones = ClusterRecords.unsyncedZones(options: RecordOptions(domain: domain))
        #expect(zones.answer(try DNSName("kubernetes.default.svc.cluster.local"), .a).rcode == .servFail)
        #expect(zones.answer(try DNSName("example.com"), .a).rcode == .refused)
    }

    @Test func aCNAMELoopEnds() throws {
        var objects = ClusterObjects()
        for (name, target) in [("a", "b"), ("b", "a")] {
            objects.services[ObjectKey(namespace: "ns", name: name)] = Service(
                metadata: ObjectMeta(name: name, namespace: "ns"),
                spec: .init(type: "ExternalName", externalName: "\(target).ns.svc.cluster.local"))
        }
        let zones = ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain))
        let answer = zones.answer(try DNSName("a.ns.svc.cluster.local"), .a)
        #expect(answer.answer.map(\.type) == [.cname, .cname])
    }
}
