import DataPlane
import Foundation
import RecordModel
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Stopping: the replies a worker has made for TCP clients still go out
/// (RFC 7766 §6.2.3), whole, before their connections close.
@Suite struct StopDrainTests {
    @Test func repliesQueuedForASlowTCPClientAreWrittenBeforeTheStop() throws {
        var objects = ClusterObjects()
        // A name with 40 addresses: replies of about 700 bytes pile up fast.
        objects.services[ObjectKey(namespace: "ns", name: "s")] = Service(
            metadata: ObjectMeta(name: "s", namespace: "ns"), spec: .init(clusterIP: "None"))
        objects.endpoints[ObjectKey(namespace: "ns", name: "s")] = Endpoints(
            metadata: ObjectMeta(name: "s", namespace: "ns"),
            subsets: [.init(addresses: (1...40).map { .init(ip: "10.1.0.\($0)") }, ports: [])])
        let zones = ClusterRecords.zones(for: objects, options: RecordOptions(domain: try DNSName("cluster.local")))
        let server = try DNSServer(.init(address: "127.0.0.1", port: 0, threads: 1), initial: try AnswerTable(zones))
        try server.start()
        let socket = try LoopbackSocket(tcp: true, port: server.port, timeoutMilliseconds: 3000)
        // The client sends and does not read yet: the worker answers until
        // the socket buffers and its output are full, then stops reading.
        let fd = socket.fd
        Thread {
            for i in 0..<20_000 {
                let query = QueryPacket.make(id: UInt16(i), name: "s.ns.svc.cluster.local", type: 1, ednsSize: 4096)
                let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
                // Blocks while the server does not read; fails once it has closed.
                if framed.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) <= 0 { return }
            }
        }.start()
        var answered: UInt64 = 0
        #expect(
            eventually(timeout: .seconds(10)) {
                let now = server.stats().replies[0]
                defer { answered = now }
                usleep(100_000)
                return now > 1000 && now == answered
            })
        let answeredBeforeStop = server.stats().replies[0]
        let stopping = Thread { server.stop() }
        stopping.start()
        // Every reply made before the stop arrives, whole and in order.
        var received = 0
        while let reply = socket.receiveFramed() {
            #expect(ReplyCheck.rcode(reply) == 0)
            #expect(Int(reply[0]) << 8 | Int(reply[1]) == received)
            received += 1
        }
        #expect(received >= Int(answeredBeforeStop), "\(received) replies of \(answeredBeforeStop)")
    }
}
