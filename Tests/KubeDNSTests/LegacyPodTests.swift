import Etcd
import Foundation
import KubeAPISimulator
import Synchronization
import TestSupport
import Testing

/// The original pod's parts, for real: `kube-dns kube2sky` writing the
/// simulated cluster into a real etcd, `kube-dns skydns` serving from it.
@Suite struct LegacyPodTests {
    static let cluster = [
        J.namespace("kube-system"), J.namespace("prod"),
        J.service("kube-dns", "kube-system", clusterIPs: ["10.0.0.10"], ports: [.init("dns", 53, "UDP"), .init("dns-tcp", 53)]),
        J.service("db", "prod", clusterIPs: ["None"]),
        J.endpointSlice("db", "prod", endpoints: [.init("10.1.0.1", hostname: "db-0"), .init("10.1.0.2")], ports: [.init("pg", 5432)]),
        J.externalName("mail", "prod", target: "mail.example.com"),
        J.pod("worker", "prod", ip: "10.2.0.5"),
    ]

    /// etcd, the simulator with `objects`, and kube2sky between them, ready.
    static func withPod(
        _ objects: [String] = cluster, _ body: (EtcdServer, KubeAPISimulator, String, Kube2SkyProcess, EtcdClient) async throws -> Void
    ) async throws {
        try await offThePool {
            let etcd = try EtcdServer()
            let simulator = try KubeAPISimulator()
            for object in objects { try simulator.apply(object) }
            let api = "http://127.0.0.1:\(try await simulator.start())"
            do {
                try await withEtcdClient([etcd.url]) { client in
                    let kube2sky = try Kube2SkyProcess(etcd: etcd.url, apiServer: api)
                    defer { kube2sky.stop() }
                    #expect(eventually { kube2sky.readiness == 200 }, "\(kube2sky.log)")
                    try await body(etcd, simulator, api, kube2sky, client)
                }
            } catch {
                await simulator.stop()
                throw error
            }
            await simulator.stop()
        }
    }

    static func skydns(_ etcd: EtcdServer, _ extra: [String] = []) throws -> ServerProcess {
        try ServerProcess(["skydns", "--machines", etcd.url, "--domain", "cluster.local."] + extra, listen: ["--addr", "127.0.0.1:0"])
    }

    /// Every key under /skydns, and its value.
    static func keys(_ client: EtcdClient) async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await client.range(prefix: "/skydns/").kvs.map { ($0.key, $0.value) })
    }

    static func eventuallyKeys(_ client: EtcdClient, _ condition: ([String: String]) -> Bool) async -> [String: String] {
        var last: [String: String] = [:]
        _ = await asyncEventually {
            last = (try? await keys(client)) ?? [:]
            return condition(last)
        }
        return last
    }

    @Test func kube2skyWritesTheLayoutOfKubernetes12() async throws {
        try await Self.withPod { _, _, _, _, client in
            let unnamed = SkyDNSLayout.leaf(of: #"{"host":"10.1.0.2","priority":10,"weight":10,"ttl":30,"targetstrip":0}"#)
            let pod = SkyDNSLayout.leaf(of: #"{"host":"10.2.0.5","priority":10,"weight":10,"ttl":30,"targetstrip":0}"#)
            let v = { (host: String, port: Int?) in
                #"{"host":"\#(host)""# + (port.map { #","port":\#($0)"# } ?? "") + #","priority":10,"weight":10,"ttl":30,"targetstrip":0}"#
            }
            let expected = [
                "/skydns/local/cluster/svc/kube-system/kube-dns/21172049": v("10.0.0.10", nil),
                "/skydns/local/cluster/svc/kube-system/kube-dns/_udp/_dns/21172049": v("kube-dns.kube-system.svc.cluster.local.", 53),
                "/skydns/local/cluster/svc/kube-system/kube-dns/_tcp/_dns-tcp/21172049": v("kube-dns.kube-system.svc.cluster.local.", 53),
                "/skydns/local/cluster/svc/prod/db/db-0": v("10.1.0.1", nil),
                "/skydns/local/cluster/svc/prod/db/_tcp/_pg/db-0": v("db-0.db.prod.svc.cluster.local.", 5432),
                "/skydns/local/cluster/svc/prod/db/\(unnamed)": v("10.1.0.2", nil),
                "/skydns/local/cluster/svc/prod/db/_tcp/_pg/\(unnamed)": v("\(unnamed).db.prod.svc.cluster.local.", 5432),
                "/skydns/local/cluster/pod/prod/10-2-0-5/\(pod)": v("10.2.0.5", nil),
            ]
            let keys = try await Self.keys(client)
            #expect(keys == expected)
        }
    }

    /// The 1.2 guide's `etcdctl ls` and `etcdctl get`, with the image's
    /// etcdctl (deploy/legacy/etcdctl) over the v3 keys.
    @Test func theGuidesEtcdctlCommandsShowTheRecords() async throws {
        let etcdctl = LegacyManifestTests.directory.appendingPathComponent("etcdctl").path
        try await Self.withPod { etcd, _, _, _, _ in
            func run(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
                try runToEnd("/usr/bin/env", ["ETCDCTL_ENDPOINTS=\(etcd.url)", "/bin/sh", etcdctl] + arguments)
            }
            let listed = try run("ls", "/skydns/local/cluster/svc/kube-system/kube-dns")
            #expect(
                listed.stdout == """
                    /skydns/local/cluster/svc/kube-system/kube-dns/21172049
                    /skydns/local/cluster/svc/kube-system/kube-dns/_tcp
                    /skydns/local/cluster/svc/kube-system/kube-dns/_udp

                    """, "\(listed)")
            let value = try run("get", "/skydns/local/cluster/svc/kube-system/kube-dns/21172049")
            #expect(value.stdout == #"{"host":"10.0.0.10","priority":10,"weight":10,"ttl":30,"targetstrip":0}"# + "\n", "\(value)")
            let missing = try run("get", "/skydns/local/cluster/svc/kube-system/nosuch")
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("Key not found"))
        }
    }

    @Test func skydnsAnswersForKube2skysKeys() async throws {
        try await Self.withPod { etcd, _, _, _, _ in
            let dns = try Self.skydns(etcd)
            defer { dns.stop() }
            let port = dns.port
            let unnamed = SkyDNSLayout.leaf(of: #"{"host":"10.1.0.2","priority":10,"weight":10,"ttl":30,"targetstrip":0}"#)
            Lookup.expectEventually("kube-dns.kube-system.svc", port: port, Lookup.ok("a 10.0.0.10"))
            Lookup.expectEventually("db.prod.svc", port: port, Lookup.ok("a 10.1.0.1", "a 10.1.0.2"))
            Lookup.expectEventually("db-0.db.prod.svc", port: port, Lookup.ok("a 10.1.0.1"))
            Lookup.expectEventually(
                "_dns._udp.kube-dns.kube-system.svc", "SRV", port: port,
                Lookup.ok("srv 10 100 53 kube-dns.kube-system.svc.cluster.local."))
            Lookup.expectEventually(
                "_pg._tcp.db.prod.svc", "SRV", port: port,
                Lookup.ok(
                    "srv 10 50 5432 db-0.db.prod.svc.cluster.local.", "srv 10 50 5432 \(unnamed).db.prod.svc.cluster.local."))
            Lookup.expectEventually("10-2-0-5.prod.pod", port: port, Lookup.ok("a 10.2.0.5"))
            // kube2sky writes nothing for ExternalName services.
            Lookup.expectEventually("mail.prod.svc", port: port, Lookup.nxdomain)
        }
    }

    @Test func updatesNeverLeaveANameMissing() async throws {
        try await Self.withPod { etcd, simulator, _, _, client in
            let dns = try Self.skydns(etcd)
            defer { dns.stop() }
            Lookup.expectEventually("db.prod.svc", port: dns.port, Lookup.ok("a 10.1.0.1", "a 10.1.0.2"))
            let counts = PollCounts()
            let poller = Thread { [port = dns.port] in
                guard let socket = try? LoopbackSocket(tcp: false, port: port, timeoutMilliseconds: 1000) else { return }
                var id: UInt16 = 0
                while !counts.stop.load(ordering: .relaxed) {
                    id &+= 1
                    for name in ["db.prod.svc.cluster.local", "kube-dns.kube-system.svc.cluster.local"] {
                        socket.send(QueryPacket.make(id: id, name: name, type: 1))
                        guard let reply = socket.receiveDatagram() else { continue }
                        counts.asked.add(1, ordering: .relaxed)
                        if ReplyCheck.rcode(reply) != 0 || ReplyCheck.count(reply, section: 1) == 0 {
                            counts.missing.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
            poller.start()
            // Each endpoint moves, one after the other, and the service's IP too.
            for step in 0..<20 {
                try simulator.apply(
                    J.endpointSlice(
                        "db", "prod",
                        endpoints: [
                            .init("10.1.1.\(step)", hostname: "db-0"), .init("10.1.2.\(step)"),
                        ], ports: [.init("pg", 5432)]))
                try simulator.apply(
                    J.service(
                        "kube-dns", "kube-system", clusterIPs: ["10.0.1.\(step)"], ports: [.init("dns", 53, "UDP"), .init("dns-tcp", 53)]))
                usleep(50_000)
            }
            Lookup.expectEventually("db.prod.svc", port: dns.port, Lookup.ok("a 10.1.1.19", "a 10.1.2.19"))
            Lookup.expectEventually("kube-dns.kube-system.svc", port: dns.port, Lookup.ok("a 10.0.1.19"))
            counts.stop.store(true, ordering: .relaxed)
            while !poller.isFinished { usleep(10_000) }
            #expect(counts.asked.load(ordering: .relaxed) > 100)
            #expect(counts.missing.load(ordering: .relaxed) == 0)
            // Only the last leaves are left.
            let keys = try await Self.keys(client).keys.filter { $0.hasPrefix("/skydns/local/cluster/svc/prod/db/") }
            #expect(keys.count == 4, "\(keys.sorted())")
        }
    }

    @Test func deletesRemoveTheSubtree() async throws {
        try await Self.withPod { etcd, simulator, _, _, client in
            let dns = try Self.skydns(etcd)
            defer { dns.stop() }
            #expect(simulator.delete(.services, namespace: "prod", name: "db"))
            #expect(simulator.delete(.pods, namespace: "prod", name: "worker"))
            let keys = await Self.eventuallyKeys(client) { keys in
                !keys.keys.contains { $0.hasPrefix("/skydns/local/cluster/svc/prod/") || $0.hasPrefix("/skydns/local/cluster/pod/") }
            }
            #expect(keys.count == 3, "\(keys.keys.sorted())")
            Lookup.expectEventually("db.prod.svc", port: dns.port, Lookup.nxdomain)
            Lookup.expectEventually("10-2-0-5.prod.pod", port: dns.port, Lookup.nxdomain)
        }
    }

    @Test func aRestartReconcilesWhatChangedMeanwhile() async throws {
        try await Self.withPod { etcd, simulator, api, kube2sky, client in
            kube2sky.stop()
            #expect(simulator.delete(.services, namespace: "prod", name: "db"))
            try simulator.apply(J.service("api", "prod", clusterIPs: ["10.0.0.30"]))
            // A stale key of kube2sky's, and a hand-written key it does not own.
            try await client.put("/skydns/local/cluster/svc/prod/ghost/1234", #"{"host":"10.9.9.9"}"#)
            try await client.put("/skydns/local/cluster/hand/x", #"{"host":"10.8.8.8"}"#)
            let again = try Kube2SkyProcess(etcd: etcd.url, apiServer: api)
            defer { again.stop() }
            #expect(eventually { again.readiness == 200 }, "\(again.log)")
            let keys = try await Self.keys(client)
            #expect(keys.keys.contains { $0.hasPrefix("/skydns/local/cluster/svc/prod/api/") })
            #expect(!keys.keys.contains { $0.hasPrefix("/skydns/local/cluster/svc/prod/db/") || $0.contains("ghost") })
            #expect(keys["/skydns/local/cluster/hand/x"] == #"{"host":"10.8.8.8"}"#)
        }
    }

    @Test func kube2skySurvivesAnEtcdOutage() async throws {
        try await Self.withPod { etcd, simulator, _, kube2sky, client in
            etcd.stop()
            // Seen by the periodic check in a quiet cluster, and by a write.
            #expect(eventually { kube2sky.readiness == 503 }, "\(kube2sky.log)")
            try simulator.apply(J.service("late", "prod", clusterIPs: ["10.0.0.40"]))
            #expect(eventually { kube2sky.log.contains("etcd write failed; reconciling when it answers") }, "\(kube2sky.log)")
            #expect(kube2sky.readiness == 503)
            try etcd.restart()
            #expect(eventually { kube2sky.readiness == 200 }, "\(kube2sky.log)")
            #expect(kube2sky.isRunning)
            let keys = await Self.eventuallyKeys(client) { keys in
                keys.keys.contains { $0.hasPrefix("/skydns/local/cluster/svc/prod/late/") }
            }
            #expect(keys.keys.contains { $0.hasPrefix("/skydns/local/cluster/svc/prod/late/") }, "\(kube2sky.log)")
        }
    }

    @Test func skydnsServesHandWrittenKeysAndKeepsServingWhileEtcdIsDown() async throws {
        try await offThePool {
            let etcd = try EtcdServer()
            try await withEtcdClient([etcd.url]) { client in
                // Values as people wrote them by hand: no targetstrip, some fields left out.
                try await client.put("/skydns/local/cluster/hand/web/x1", #"{"host":"10.9.0.1"}"#)
                try await client.put("/skydns/local/cluster/hand/web/x2", #"{"host":"fd00::9"}"#)
                try await client.put("/skydns/local/cluster/hand/alias", #"{"host":"web.hand.cluster.local","ttl":60}"#)
                try await client.put("/skydns/local/cluster/hand/api/s1", #"{"host":"10.9.0.2","port":8080,"priority":10,"weight":20}"#)
                try await client.put("/skydns/local/cluster/hand/api/s2", #"{"host":"10.9.0.3","port":8080,"priority":10,"weight":60}"#)
                let dns = try Self.skydns(etcd)
                defer { dns.stop() }
                let port = dns.port
                Lookup.expectEventually("web.hand", port: port, Lookup.ok("a 10.9.0.1"))
                Lookup.expectEventually("web.hand", "AAAA", port: port, Lookup.ok("aaaa fd00::9"))
                Lookup.expectEventually("alias.hand", "CNAME", port: port, Lookup.ok("cname web.hand.cluster.local."))
                Lookup.expectEventually("alias.hand", port: port, Lookup.ok("a 10.9.0.1", "cname web.hand.cluster.local."))
                Lookup.expectEventually(
                    "api.hand", "SRV", port: port,
                    Lookup.ok(
                        "srv 10 25 8080 s1.api.hand.cluster.local.", "srv 10 75 8080 s2.api.hand.cluster.local."))

                // Hand deletes are followed.
                try await client.delete("/skydns/local/cluster/hand/web/x2")
                Lookup.expectEventually("web.hand", "AAAA", port: port, Lookup.nodata)

                // etcd down: the last records keep being served.
                etcd.stop()
                for _ in 0..<10 {
                    #expect(Lookup.of("web.hand", port: port) == Lookup.ok("a 10.9.0.1"))
                    usleep(200_000)
                }
                // Back: followed again.
                try etcd.restart()
                try await client.put("/skydns/local/cluster/hand/new/n1", #"{"host":"10.9.0.7"}"#)
                Lookup.expectEventually("new.hand", port: port, Lookup.ok("a 10.9.0.7"))
                #expect(dns.isRunning)
            }
        }
    }
}

/// What the poller of `updatesNeverLeaveANameMissing` saw, and when to stop.
private final class PollCounts: Sendable {
    let stop = Atomic(false)
    let asked = Atomic(0)
    let missing = Atomic(0)
}
