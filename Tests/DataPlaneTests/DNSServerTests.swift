import DataPlane
import Foundation
import RecordModel
import TestSupport
import Testing

/// The data plane in process: publication, readiness, counters.
@Suite struct DNSServerTests {
    let domain = try! DNSName("cluster.local")

    func zones(clusterIP: String) -> ZoneSet {
        var objects = ClusterObjects()
        objects.services[ObjectKey(namespace: "ns", name: "s")] = Service(
            metadata: ObjectMeta(name: "s", namespace: "ns"), spec: .init(clusterIP: clusterIP))
        return ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain))
    }

    func server(_ zones: ZoneSet, threads: Int = 2) throws -> DNSServer {
        let server = try DNSServer(.init(address: "127.0.0.1", port: 0, threads: threads), initial: try AnswerTable(zones))
        try server.start()
        return server
    }

    @Test func beforeTheFirstLoadClusterNamesGetServfailThenAnswers() throws {
        let server = try server(ClusterRecords.unsyncedZones(options: RecordOptions(domain: domain)))
        defer { server.stop() }
        let socket = try LoopbackSocket(tcp: false, port: server.port)
        socket.send(QueryPacket.make(id: 1, name: "s.ns.svc.cluster.local", type: 1))
        #expect(socket.receiveDatagram().map(ReplyCheck.rcode) == 2)
        socket.send(QueryPacket.make(id: 2, name: "nothing.ns.svc.cluster.local", type: 1))
        #expect(socket.receiveDatagram().map(ReplyCheck.rcode) == 2)
        socket.send(QueryPacket.make(id: 3, name: "example.com", type: 1))
        #expect(socket.receiveDatagram().map(ReplyCheck.rcode) == 5)

        server.publish(try AnswerTable(zones(clusterIP: "10.0.0.1")))
        socket.send(QueryPacket.make(id: 4, name: "s.ns.svc.cluster.local", type: 1))
        let reply = try #require(socket.receiveDatagram())
        #expect(ReplyCheck.rcode(reply) == 0)
        #expect(Array(reply.suffix(4)) == [10, 0, 0, 1])
    }

    @Test func publishingUnderLoadLosesNoQuery() async throws {
        let server = try server(zones(clusterIP: "10.0.0.1"))
        defer { server.stop() }
        let port = server.port
        let sender = Task.detached { () -> (answered: Int, wrong: Int, lost: Int) in
            let socket = try LoopbackSocket(tcp: false, port: port, timeoutMilliseconds: 1000)
            var answered = 0
            var wrong = 0
            var lost = 0
            for i in 0..<4000 {
                socket.send(QueryPacket.make(id: UInt16(i & 0xFFFF), name: "s.ns.svc.cluster.local", type: 1))
                guard let reply = socket.receiveDatagram() else {
                    lost += 1
                    continue
                }
                let address = Array(reply.suffix(4))
                if ReplyCheck.rcode(reply) == 0 && (address == [10, 0, 0, 1] || address == [10, 0, 0, 2]) {
                    answered += 1
                } else {
                    wrong += 1
                }
            }
            return (answered, wrong, lost)
        }
        for round in 0..<60 {
            server.publish(try AnswerTable(zones(clusterIP: round % 2 == 0 ? "10.0.0.2" : "10.0.0.1")))
            try await Task.sleep(for: .milliseconds(5))
        }
        let result = try await sender.value
        #expect(result.lost == 0)
        #expect(result.wrong == 0)
        #expect(result.answered == 4000)
    }

    @Test func countersCountEveryQueryByRcodeAndTransport() throws {
        let server = try server(zones(clusterIP: "10.0.0.1"), threads: 1)
        defer { server.stop() }
        let udp = try LoopbackSocket(tcp: false, port: server.port)
        for (i, name) in ["s.ns.svc.cluster.local", "x.ns.svc.cluster.local", "example.com"].enumerated() {
            udp.send(QueryPacket.make(id: UInt16(i), name: name, type: 1))
            #expect(udp.receiveDatagram() != nil)
        }
        udp.send([1, 2, 3])
        let tcp = try LoopbackSocket(tcp: true, port: server.port)
        tcp.sendFramed(QueryPacket.make(id: 9, name: "s.ns.svc.cluster.local", type: 1))
        #expect(tcp.receiveFramed() != nil)
        let udpProbe = try LoopbackSocket(tcp: false, port: server.port)
        udpProbe.send(QueryPacket.make(id: 10, name: "s.ns.svc.cluster.local", type: 1))
        #expect(udpProbe.receiveDatagram() != nil)

        let stats = server.stats()
        #expect(stats["udp_queries"] == 5)
        #expect(stats["tcp_queries"] == 1)
        #expect(stats["dropped"] == 1)
        #expect(stats.replies[0] == 3)
        #expect(stats.replies[3] == 1)
        #expect(stats.replies[5] == 1)
        #expect(stats["tcp_connections"] == 1)
    }

    /// One service too big for any message does not stop the table: its
    /// answer keeps the addresses that fit in 64 KiB, the rest is served.
    @Test func anAnswerOver64KiBKeepsWhatFits() throws {
        var objects = ClusterObjects()
        objects.services[ObjectKey(namespace: "ns", name: "h")] = Service(
            metadata: ObjectMeta(name: "h", namespace: "ns"), spec: .init(clusterIP: "None"))
        objects.services[ObjectKey(namespace: "ns", name: "s")] = Service(
            metadata: ObjectMeta(name: "s", namespace: "ns"), spec: .init(clusterIP: "10.0.0.1"))
        let endpoints = (0..<5000).map { EndpointSlice.Endpoint(addresses: ["10.\($0 / 250).\($0 % 250).1"]) }
        objects.endpointSlices[ObjectKey(namespace: "ns", name: "a")] = EndpointSlice(
            metadata: ObjectMeta(name: "a", namespace: "ns", labels: [EndpointSlice.serviceNameLabel: "h"]),
            addressType: "IPv4", endpoints: endpoints, ports: [])
        let server = try server(ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain)))
        defer { server.stop() }

        let tcp = try LoopbackSocket(tcp: true, port: server.port)
        tcp.sendFramed(QueryPacket.make(id: 1, name: "h.ns.svc.cluster.local", type: 1))
        let reply = try #require(tcp.receiveFramed())
        #expect(ReplyCheck.rcode(reply) == 0)
        #expect(ReplyCheck.problem(reply: reply, query: []) == nil)
        let answers = ReplyCheck.count(reply, section: 1)
        #expect(answers > 3000 && answers < 5000, "\(answers) answers in \(reply.count) bytes")
        let udp = try LoopbackSocket(tcp: false, port: server.port)
        udp.send(QueryPacket.make(id: 2, name: "h.ns.svc.cluster.local", type: 1))
        #expect(try #require(udp.receiveDatagram())[2] & 0x02 != 0)
        udp.send(QueryPacket.make(id: 3, name: "s.ns.svc.cluster.local", type: 1))
        #expect(try #require(udp.receiveDatagram()).suffix(4) == [10, 0, 0, 1])
    }

    /// A headless service of 120 endpoints asked over UDP came back TC with
    /// an empty answer section: clients without TCP got nothing. Now, as
    /// skydns and CoreDNS, the whole records that fit, and TC.
    @Test(arguments: [(UInt16(1), 4), (28, 16), (33, 0)])
    func aTruncatedAnswerKeepsTheWholeRecordsThatFit(_ type: UInt16, _ addressSize: Int) throws {
        var objects = ClusterObjects()
        objects.services[ObjectKey(namespace: "ns", name: "h")] = Service(
            metadata: ObjectMeta(name: "h", namespace: "ns"), spec: .init(clusterIP: "None"))
        let v6 = type == 28
        let endpoints = (0..<120).map {
            EndpointSlice.Endpoint(addresses: [v6 ? "fd00::\($0 + 1)" : "10.9.0.\($0 + 1)"], hostname: "pod-\($0)")
        }
        objects.endpointSlices[ObjectKey(namespace: "ns", name: "a")] = EndpointSlice(
            metadata: ObjectMeta(name: "a", namespace: "ns", labels: [EndpointSlice.serviceNameLabel: "h"]),
            addressType: v6 ? "IPv6" : "IPv4", endpoints: endpoints, ports: [EndpointPort(name: "http", port: 80, protocol: "TCP")])
        let server = try server(ClusterRecords.zones(for: objects, options: RecordOptions(domain: domain)))
        defer { server.stop() }
        let name = type == 33 ? "_http._tcp.h.ns.svc.cluster.local" : "h.ns.svc.cluster.local"
        let udp = try LoopbackSocket(tcp: false, port: server.port)
        var seen: Set<String> = []
        var most = 0
        for (id, edns) in [(UInt16(1), UInt16?.none), (41, 1232), (81, 1232), (101, 4096)] {
            let query = QueryPacket.make(id: id, name: name, type: type, ednsSize: edns)
            udp.send(query)
            let reply = try #require(udp.receiveDatagram())
            #expect(ReplyCheck.problem(reply: reply, query: query) == nil)
            #expect(reply[2] & 0x02 != 0, "TC")
            #expect(reply.count <= Int(edns.map { min($0, 1232) } ?? 512))
            let answers = ReplyCheck.count(reply, section: 1)
            #expect(answers > 0 && answers < 120)
            most = max(most, answers)
            if addressSize > 0 {
                // Every record that fits: 12 bytes of fields and the address each.
                let room = Int(edns.map { min($0, 1232) } ?? 512) - query.count
                #expect(answers == room / (12 + addressSize), "\(answers) in \(reply.count) bytes")
            }
            seen.formUnion(ReplyCheck.normalized(reply).split(separator: "|").map(String.init))
        }
        // Addresses turn: different queries get different subsets.
        if addressSize > 0 { #expect(seen.count > most + 5) }
        let tcp = try LoopbackSocket(tcp: true, port: server.port)
        tcp.sendFramed(QueryPacket.make(id: 5, name: name, type: type))
        let whole = try #require(tcp.receiveFramed())
        #expect(whole[2] & 0x02 == 0)
        #expect(ReplyCheck.count(whole, section: 1) == 120)
    }

    @Test func anAddressThatIsNotOneIsAClearError() throws {
        #expect {
            _ = try DNSServer(.init(address: "256.0.0.1", port: 0, threads: 1), initial: try AnswerTable(zones(clusterIP: "10.0.0.1")))
        } throws: { error in
            "\(error)" == "256.0.0.1 is not an IPv4 or IPv6 address"
        }
    }
}
