import DNSModel
import DataPlane
import Foundation
import RecordModel
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The forwarder's limits and counters, in process: the cap on queries in
/// flight, and an upstream that never answers set aside.
@Suite struct ForwardingCountersTests {
    @Test(arguments: [ResponseCode.servFail, .refused])
    func overTheCapIsAnsweredAtOnceAndCounted(_ rcode: ResponseCode) throws {
        let silent = try SilentUpstream()
        defer { silent.stop() }
        var configuration = DNSServer.Configuration(address: "127.0.0.1", port: 0, threads: 1)
        configuration.forwardMaxConcurrent = 2
        configuration.overCapReply = rcode
        let server = try DNSServer(
            configuration,
            initial: try AnswerTable(ClusterRecords.unsyncedZones(options: RecordOptions(domain: try DNSName("cluster.local")))))
        defer { server.stop() }
        try server.forward(
            Forwarding(
                routes: [.init(.root, [.init(host: "127.0.0.1", port: silent.port)])], timeout: .seconds(30), attemptTimeout: .seconds(30)))
        try server.start()
        let socket = try LoopbackSocket(tcp: false, port: server.port)
        for i in 0..<10 { socket.send(QueryPacket.make(id: UInt16(i), name: "name-\(i).example.test", type: 1)) }
        // Eight replies come at once (the query timeout is 30 s), each to its own query.
        var ids: Set<UInt16> = []
        for _ in 0..<8 {
            let reply = try #require(socket.receiveDatagram())
            #expect(reply[3] & 0x0F == rcode.rawValue)
            ids.insert(UInt16(reply[0]) << 8 | UInt16(reply[1]))
        }
        #expect(ids == Set(2..<10))
        let stats = server.stats()
        #expect(stats["forwarded"] == 2 && stats["forward_over_cap"] == 8 && stats["cache_misses"] == 2)
        #expect(eventually(timeout: .seconds(5)) { silent.queries >= 2 })
    }

    @Test func anUpstreamThatNeverAnswersIsSetAsideAndProbed() throws {
        let silent = try SilentUpstream()
        defer { silent.stop() }
        let server = try DNSServer(
            .init(address: "127.0.0.1", port: 0, threads: 1),
            initial: try AnswerTable(ClusterRecords.unsyncedZones(options: RecordOptions(domain: try DNSName("cluster.local")))))
        defer { server.stop() }
        try server.forward(
            Forwarding(
                routes: [.init(.root, [.init(host: "127.0.0.1", port: silent.port)])], timeout: .milliseconds(300),
                attemptTimeout: .milliseconds(300)))
        try server.start()
        let socket = try LoopbackSocket(tcp: false, port: server.port)
        for i in 0..<3 {
            socket.send(QueryPacket.make(id: UInt16(i), name: "name-\(i).example.test", type: 1))
            #expect(socket.receiveDatagram().map { $0[3] & 0x0F } == 2)
        }
        let upstream = try #require(server.upstreamStats().first)
        #expect(upstream.address == "127.0.0.1:\(silent.port)")
        #expect(upstream.timeouts >= 3 && upstream.replies == 0 && upstream.down && !upstream.looped)
        #expect(server.stats()["forward_failed"] == 3)
        // Every upstream set aside: it is asked anyway, and that is counted
        // (the loop probe's timeout may have set it aside a query earlier).
        let allDown = server.stats()["forward_all_down"] ?? 0
        #expect(allDown <= 1)
        socket.send(QueryPacket.make(id: 3, name: "name-3.example.test", type: 1))
        #expect(socket.receiveDatagram().map { $0[3] & 0x0F } == 2)
        #expect(server.stats()["forward_all_down"] == allDown + 1)
        // Set aside, it is asked `. NS` about every second (a loop probe at the start came too).
        let before = silent.queries
        #expect(eventually(timeout: .seconds(5)) { silent.queries >= before + 2 })
        #expect(eventually(timeout: .seconds(5)) { (server.upstreamStats().first?.healthFailures ?? 0) >= 1 })
    }
}
