import Foundation
import TestSupport
import Testing

/// The cache plugin's TTL options and prefetch, and forward's
/// max_concurrent, asserted by the TTLs clients see, what reaches the
/// upstream, and the metrics CoreDNS's dashboards read.
@Suite(.serialized) struct CorefileCacheTests {
    /// The TTL of the first answer RR of `name` A.
    static func ttl(_ name: String, port: UInt16) throws -> UInt32? {
        let reply = try Dig.query(name, "A", port: port)
        return reply.normalized.answer.first.flatMap { UInt32($0.split(separator: " ")[1]) }
    }

    @Test func aCachesMaximumTTLIsWhatClientsSeeAndKeepTTLStopsTheCountdown() throws {
        let upstream = try CorefilePluginTests.unbound()
        defer { upstream.stop() }
        let (counting, _) = try CorefilePluginTests.serve(".:0 {\nkubernetes cluster.local\ncache 30\nforward . \(upstream.address)\n}")
        defer { counting.stop() }
        let (keeping, _) = try CorefilePluginTests.serve(
            ".:0 {\nkubernetes cluster.local\ncache 30 {\nkeepttl\n}\nforward . \(upstream.address)\n}")
        defer { keeping.stop() }
        // The zone says 300; the cache keeps it 30 s and says so.
        #expect(try Self.ttl("www.example.test.", port: counting.port) == 30)
        #expect(try Self.ttl("www.example.test.", port: keeping.port) == 30)
        Thread.sleep(forTimeInterval: 2.1)
        #expect(try Self.ttl("www.example.test.", port: counting.port).map { $0 <= 28 } == true)
        #expect(try Self.ttl("www.example.test.", port: keeping.port) == 30)
        #expect(upstream.queries("www.example.test.", "A") == 2)
    }

    @Test func aPopularAnswerIsFetchedAgainBeforeItExpires() throws {
        let upstream = try CorefilePluginTests.unbound()
        defer { upstream.stop() }
        // Asked for twice, with under 95% of its 30 s left: fetched again.
        let (server, _) = try CorefilePluginTests.serve(
            ".:0 {\nkubernetes cluster.local\ncache 30 {\nprefetch 2 1m 95%\n}\nforward . \(upstream.address)\nprometheus 127.0.0.1:0\n}")
        defer { server.stop() }
        #expect(try Self.ttl("www.example.test.", port: server.port) == 30)
        #expect(try Self.ttl("www.example.test.", port: server.port) == 30)
        #expect(upstream.queries("www.example.test.", "A") == 1)
        Thread.sleep(forTimeInterval: 2.1)
        // The second hit: popular, 28 s of 30 left.
        #expect(try Self.ttl("www.example.test.", port: server.port).map { $0 <= 28 } == true)
        #expect(eventually(timeout: .seconds(5)) { upstream.queries("www.example.test.", "A") == 2 })
        // The fresh answer replaced the old one; the next hit does not ask again.
        #expect(try Self.ttl("www.example.test.", port: server.port).map { $0 >= 29 } == true)
        // A name asked once is never prefetched; a denial is a hit of its own type.
        for _ in 0..<2 { _ = try Dig.query("nothing.example.test.", "A", port: server.port) }
        let samples = try MetricsTests.scrape(try #require(server.ports["metrics"])).samples
        let cache = "server=\"dns://:\(server.port)\",zones=\".\",view=\"\""
        #expect(samples["coredns_cache_prefetch_total{\(cache)}"] == 1)
        #expect(samples["coredns_cache_hits_total{\(cache),type=\"denial\"}"] == 1)
        #expect(samples["coredns_cache_entries{\(cache),type=\"denial\"}"] == 1)
        #expect(upstream.queries("www.example.test.", "A") == 2)
    }

    @Test func queriesBeyondMaxConcurrentAreRefusedAtOnce() throws {
        let silent = try SilentUpstream()
        defer { silent.stop() }
        let (server, _) = try CorefilePluginTests.serve(
            ".:0 {\nkubernetes cluster.local\nforward . 127.0.0.1:\(silent.port) {\nmax_concurrent 2\n}\nprometheus 127.0.0.1:0\n}",
            extra: ["--threads", "1"])
        defer { server.stop() }
        let socket = try LoopbackSocket(tcp: false, port: server.port)
        for i in 0..<6 { socket.send(QueryPacket.make(id: UInt16(i), name: "name-\(i).example.test", type: 1)) }
        // CoreDNS's forward answers REFUSED beyond its limit (SERVFAIL would read as an upstream failure).
        for _ in 0..<4 { #expect(try #require(socket.receiveDatagram())[3] & 0x0F == 5) }
        let samples = try MetricsTests.scrape(try #require(server.ports["metrics"])).samples
        #expect(samples["coredns_forward_max_concurrent_rejects_total"] == 4)
        #expect(
            samples[
                "coredns_dns_responses_total{server=\"dns://:\(server.port)\",zone=\".\",view=\"\",rcode=\"REFUSED\",plugin=\"forward\"}"]
                == 4)
    }
}
