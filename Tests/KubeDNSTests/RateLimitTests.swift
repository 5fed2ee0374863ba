import Foundation
import TestSupport
import Testing

/// Response rate limiting, for a DNS port reachable from outside the
/// cluster: off unless asked; then a source prefix over its rate gets its
/// UDP replies dropped, every second one truncated instead, and TCP alone.
@Suite struct RateLimitTests {
    static let query = QueryPacket.make(id: 1, name: "kubernetes.default.svc.cluster.local", type: 1)

    /// Sends `count` queries at once; returns the whole answers and the truncated ones.
    static func burst(_ port: UInt16, _ count: Int) throws -> (whole: Int, truncated: Int) {
        let socket = try LoopbackSocket(tcp: false, port: port, timeoutMilliseconds: 300)
        socket.enlargeReceiveBuffer()
        for id in 0..<count {
            var query = Self.query
            query[0] = UInt8(id >> 8)
            query[1] = UInt8(id & 0xFF)
            socket.send(query)
        }
        var whole = 0
        var truncated = 0
        while let reply = socket.receiveDatagram() {
            if reply[2] & 0x02 != 0 { truncated += 1 } else if ReplyCheck.count(reply, section: 1) == 1 { whole += 1 }
        }
        return (whole, truncated)
    }

    @Test func offByDefault() throws {
        try ServerProcess.with(["--kube-objects", Fixtures.clusterPath]) { port throws in
            let (whole, truncated) = try Self.burst(port, 200)
            #expect(whole == 200 && truncated == 0)
        }
    }

    @Test func aPrefixOverItsRateIsDroppedOrSlippedAndTCPIsNot() throws {
        let server = try ServerProcess([
            "--kube-objects", Fixtures.clusterPath, "--rrl-responses-per-second", "20", "--rrl-slip", "2", "--threads", "1",
        ])
        defer { server.stop() }
        // The start-up checks took tokens of 127.0.0.0/24: let the bucket fill.
        usleep(1_100_000)
        // One second's tokens, perhaps two if the burst straddles a second.
        let (whole, truncated) = try Self.burst(server.port, 200)
        #expect(whole >= 20 && whole <= 40, "\(whole) whole")
        #expect(truncated >= 70 && truncated <= 90, "\(truncated) truncated")
        let tcp = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port, tcp: true)
        #expect(tcp.answer.count == 1)
        let metrics = try MetricsTests.scrape(server.metricsPort).samples
        let dropped = metrics.first { $0.key.hasPrefix("kube_dns_rrl_dropped_total") }?.value ?? 0
        let slipped = metrics.first { $0.key.hasPrefix("kube_dns_rrl_slipped_total") }?.value ?? 0
        #expect(Int(slipped) == truncated)
        #expect(Int(dropped) >= 70)
    }
}
