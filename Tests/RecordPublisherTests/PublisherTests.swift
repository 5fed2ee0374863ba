import DataPlane
import Foundation
import Health
import KubeAPI
import KubeAPISimulator
import ObjectSources
import RecordModel
import RecordPublisher
import ServerMetrics
import Synchronization
import TestSupport
import Testing

/// The publication loop in process: a real data plane on loopback, the
/// API simulator speaking list and watch, a clock moved by hand.
@Suite struct PublisherTests {
    let domain = try! DNSName("cluster.local")

    /// A data plane serving SERVFAIL for the cluster zones until the publisher's first table.
    struct Harness {
        let server: DNSServer
        let readiness = Readiness(notReadyBecause: "not synced")
        let clock = ManualClock(epochSeconds: 1_000_000)
        let log = LogRecorder()
        let metrics = MetricsRegistry(version: "test")

        init(options: RecordOptions) throws {
            server = try DNSServer(
                .init(address: "127.0.0.1", port: 0, threads: 1), initial: try AnswerTable(ClusterRecords.unsyncedZones(options: options)))
            try server.start()
        }

        func publisher<State: RecordState>(_: State.Type) -> Publisher<State> {
            Publisher(server: server, readiness: readiness, metrics: metrics, clock: clock, logger: log.logger())
        }

        func answer(_ name: String, _ type: String = "A") throws -> DigReply { try Dig.query(name, type, port: server.port) }

        func serial() throws -> String? {
            try answer("cluster.local", "SOA").answer.first?.split(whereSeparator: \.isWhitespace).dropFirst(6).first.map(String.init)
        }
    }

    func objects(_ json: String) throws -> ClusterObjects { try ObjectsFile.parse(Data(json.utf8), path: "test") }

    /// Twenty other Services, so that a change to one is a small share of the names.
    func others() -> [String] { (0..<20).map { service("other\($0)", ip: "10.0.2.\($0)") } }

    func service(_ name: String, ip: String) -> String {
        KubeObjectJSON.service(name, "ns", clusterIPs: [ip], ports: [.init("http", 80)])
    }

    @Test func publishesWholeOnceEveryResourceIsListedThenDeltasWithTheClocksSerial() async throws {
        let options = RecordOptions(domain: domain)
        let harness = try Harness(options: options)
        defer { harness.server.stop() }
        let simulator = try KubeAPISimulator()
        for json in [KubeObjectJSON.namespace("ns"), service("web", ip: "10.0.0.1")] + others() { _ = try simulator.apply(json) }
        let port = try await simulator.start()
        let client = try APIClient(access: ClusterAccess(server: URL(string: "http://127.0.0.1:\(port)")!), userAgent: "test")
        let source = APISource(client: client, watchPods: false, settings: InformerSettings(), logger: harness.log.logger())
        let queue = UpdateQueue()
        let publisher = harness.publisher(ClusterState.self)
        let running = Task(executorPreference: BlockingExecutor.shared) {
            await withDiscardingTaskGroup { group in
                group.addTask { await source.run(into: queue) }
                group.addTask { await publisher.run(ClusterState(options: options, resources: source.resources), from: queue) }
            }
        }
        defer { running.cancel() }

        try await offThePool { () async throws in
            #expect(eventually { harness.readiness.notReadyReason == nil })
            #expect(try harness.answer("web.ns.svc.cluster.local").answer.first?.hasSuffix("10.0.0.1") == true)
            #expect(try harness.serial() == "1000000")
            #expect(harness.log.count("records published") == 1)

            // A change a minute later: published as a delta, with that minute's serial.
            harness.clock.advance(by: .seconds(60))
            _ = try simulator.apply(service("web", ip: "10.0.0.2"))
            #expect(eventually { (try? harness.answer("web.ns.svc.cluster.local").answer.first?.hasSuffix("10.0.0.2")) == true })
            #expect(try harness.serial() == "1000060")
            #expect(harness.log.count("changes published") >= 1)
            #expect(harness.log.count("records published") == 1)

            // A clock set back never moves the serial back (RFC 1982).
            harness.clock.epochSeconds = 5
            _ = try simulator.apply(service("api", ip: "10.0.0.3"))
            #expect(eventually { (try? harness.answer("api.ns.svc.cluster.local").rcode) == "NOERROR" })
            #expect(try harness.serial() == "1000060")
        }
        // The informers end before their client: one still watching would
        // schedule its retry on the client's shut event loop (a NIO crash).
        running.cancel()
        await running.value
        await simulator.stop()
        await client.shutdown()
    }

    @Test func nothingIsPublishedBeforeEveryResourceIsListed() async throws {
        let options = RecordOptions(domain: domain)
        let harness = try Harness(options: options)
        defer { harness.server.stop() }
        let queue = UpdateQueue()
        let applied = Counter()
        let publisher = harness.publisher(Counted<ClusterState>.self)
        let state = Counted(ClusterState(options: options, resources: [.services, .endpoints, .namespaces]), applied)
        let running = Task { await publisher.run(state, from: queue) }
        defer { running.cancel() }

        let web = try objects(service("web", ip: "10.0.0.1"))
        queue.push(.services(.replaced(web.services.values.map { $0 })))
        queue.push(.namespaces(.replaced([Namespace(metadata: ObjectMeta(name: "ns"))])))
        #expect(await asyncEventually { applied.value == 2 })
        #expect(harness.readiness.notReadyReason == "not synced")
        try await offThePool { () async throws in #expect(try harness.answer("web.ns.svc.cluster.local").rcode == "SERVFAIL") }

        queue.push(.endpointSlices(.replaced([])))
        #expect(await asyncEventually { harness.readiness.notReadyReason == nil })
        try await offThePool { () async throws in
            #expect(try harness.answer("web.ns.svc.cluster.local").answer.first?.hasSuffix("10.0.0.1") == true)
        }
    }

    @Test func aTableThatCannotBeBuiltKeepsTheLastOneServed() async throws {
        let options = RecordOptions(domain: domain)
        let harness = try Harness(options: options)
        defer { harness.server.stop() }
        let queue = BatchQueue<ScriptedState.Step>()
        let publisher = harness.publisher(ScriptedState.self)
        let running = Task { await publisher.run(ScriptedState(), from: queue) }
        defer { running.cancel() }

        var cluster = try objects(service("web", ip: "10.0.0.1"))
        for json in others() { cluster.services.merge(try objects(json).services) { $1 } }
        let good = ClusterRecords.zones(for: cluster, options: options)
        queue.push(.whole(good))
        #expect(await asyncEventually { harness.readiness.notReadyReason == nil })

        // A delta under zones other than its base table's: the data plane refuses it.
        let soa = SOAData(primary: domain, mailbox: domain, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1)
        var otherHeads = good.heads
        otherHeads.zones.append(Zone(apex: try DNSName("example.org"), authoritative: true, soa: soa, ttl: 30))
        queue.push(.delta(otherHeads, ZoneChanges(answered: [ZoneNames(zone: good.zones[0], names: [good.zones[0].apex])])))
        #expect(await asyncEventually { harness.log.count("changes not published; serving the last records") == 1 })
        try await offThePool { () async throws in
            #expect(try harness.answer("web.ns.svc.cluster.local").answer.first?.hasSuffix("10.0.0.1") == true)
        }
        #expect(harness.readiness.notReadyReason == nil)

        // A whole table with more zones than the data plane takes.
        var broken = good
        broken.zones += (0..<40).map { Zone(apex: try! DNSName("z\($0).test"), authoritative: true, soa: soa, ttl: 30) }
        queue.push(.whole(broken))
        #expect(await asyncEventually { harness.log.count("records not published; serving the last ones") == 1 })
        try await offThePool { () async throws in
            #expect(try harness.answer("web.ns.svc.cluster.local").answer.first?.hasSuffix("10.0.0.1") == true)
        }

        // And the next good one is published.
        queue.push(.whole(ClusterRecords.zones(for: try objects(service("web", ip: "10.0.0.9")), options: options)))
        try await offThePool { () async throws in
            #expect(eventually { (try? harness.answer("web.ns.svc.cluster.local").answer.first?.hasSuffix("10.0.0.9")) == true })
        }
    }

    @Test func eachReadOfAnObjectsFileIsPublishedWholeAndMarkedPublished() async throws {
        let options = RecordOptions(domain: domain)
        let harness = try Harness(options: options)
        defer { harness.server.stop() }
        let queue = BatchQueue<ClusterObjects>()
        let (applied, published) = (Counter(), Counter())
        let publisher = harness.publisher(Counted<ObjectsFileState>.self)
        let running = Task { await publisher.run(Counted(ObjectsFileState(options: options), applied, published: published), from: queue) }
        defer { running.cancel() }

        queue.push(try objects(service("web", ip: "10.0.0.1")))
        #expect(await asyncEventually { harness.readiness.notReadyReason == nil })
        #expect(published.value == 1)

        // The next read replaces the first whole, with a later serial.
        harness.clock.advance(by: .seconds(5))
        queue.push(try objects(service("db", ip: "10.0.0.2")))
        #expect(await asyncEventually { published.value == 2 })
        try await offThePool { () async throws in
            #expect(try harness.answer("db.ns.svc.cluster.local").answer.first?.hasSuffix("10.0.0.2") == true)
            #expect(try harness.answer("web.ns.svc.cluster.local").rcode == "NXDOMAIN")
            #expect(try harness.serial() == "1000005")
        }
        #expect(harness.log.count("changes published") == 0)
    }

    @Test func aChangeTouchingMuchOfTheTableIsPublishedWhole() async throws {
        let options = RecordOptions(domain: domain)
        let harness = try Harness(options: options)
        defer { harness.server.stop() }
        let queue = UpdateQueue()
        let publisher = harness.publisher(ClusterState.self)
        let running = Task { await publisher.run(ClusterState(options: options, resources: [.services]), from: queue) }
        defer { running.cancel() }

        queue.push(.services(.replaced([])))
        #expect(await asyncEventually { harness.log.count("records published") == 1 })
        let many = try (0..<20).map { try objects(service("s\($0)", ip: "10.0.1.\($0)")).services.values.first! }
        queue.push(.services(.replaced(many)))
        #expect(await asyncEventually { harness.log.count("records published") == 2 })
        #expect(harness.log.count("changes published") == 0)
        try await offThePool { () async throws in
            #expect(try harness.answer("s7.ns.svc.cluster.local").answer.first?.hasSuffix("10.0.1.7") == true)
        }
    }

    @Test func theInitialSyncDeadlineIsLoggedByTheClock() async throws {
        let harness = try Harness(options: RecordOptions(domain: domain))
        defer { harness.server.stop() }
        let publisher = harness.publisher(ClusterState.self)
        let waiting = Task { await publisher.warnUnlessReady(after: .seconds(60), what: "initial sync") }
        #expect(await asyncEventually { harness.clock.sleeperCount == 1 })
        harness.clock.advance(by: .seconds(59))
        #expect(harness.clock.sleeperCount == 1)
        harness.clock.advance(by: .seconds(1))
        await waiting.value
        #expect(harness.log.count("initial sync not done in time; still trying") == 1)
    }
}

/// A state that counts the batches applied to the one it wraps, and the
/// whole tables it was told were published.
struct Counted<Wrapped: RecordState>: RecordState {
    var wrapped: Wrapped
    let applied: Counter
    let published: Counter

    init(_ wrapped: Wrapped, _ applied: Counter, published: Counter = Counter()) {
        self.wrapped = wrapped
        self.applied = applied
        self.published = published
    }

    mutating func apply(_ batch: Wrapped.Batch) -> [String] {
        defer { applied.add() }
        return wrapped.apply(batch)
    }
    var isComplete: Bool { wrapped.isComplete }
    mutating func stamp(epochSeconds: UInt32) { wrapped.stamp(epochSeconds: epochSeconds) }
    var hasChanges: Bool { wrapped.hasChanges }
    mutating func takeChanges() -> PendingChanges { wrapped.takeChanges() }
    mutating func discardChanges() { wrapped.discardChanges() }
    var contents: Wrapped.Contents { wrapped.contents }
    mutating func tablePublished() {
        published.add()
        wrapped.tablePublished()
    }
    var summary: String { wrapped.summary }
}

final class Counter: Sendable {
    private let count = Atomic(0)
    var value: Int { count.load(ordering: .acquiring) }
    func add() { count.add(1, ordering: .releasing) }
}

/// A state that publishes exactly what each step says.
struct ScriptedState: RecordState {
    enum Step: Sendable {
        case whole(ZoneSet)
        case delta(ZoneSet, ZoneChanges)
    }
    private var zones = ZoneSet(zones: [])
    private var pending: PendingChanges?

    mutating func apply(_ step: Step) -> [String] {
        switch step {
        case .whole(let set):
            zones = set
            pending = .whole
        case .delta(let heads, let changes): pending = .delta(heads: heads, changes: changes)
        }
        return []
    }
    var isComplete: Bool { !zones.zones.isEmpty }
    mutating func stamp(epochSeconds: UInt32) {}
    var hasChanges: Bool { pending != nil }
    mutating func takeChanges() -> PendingChanges {
        defer { pending = nil }
        return pending ?? .whole
    }
    mutating func discardChanges() { pending = nil }
    var contents: ZoneSet { zones }
    var summary: String { "scripted" }
}
