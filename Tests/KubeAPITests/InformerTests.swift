import Foundation
import JSONDecoding
import KubeAPISimulator
import Logging
import Synchronization
import TestSupport
import Testing

@testable import KubeAPI

/// The informer against the simulator: paging, events, relists, faults, TLS.
@Suite struct InformerTests {
    /// Any object, known by its name.
    struct Named: JSONDecodable, Sendable, Hashable {
        var name: String
        init(json: JSONNode) throws {
            name = try json.decode(JSONNode.self, at: "metadata").decode(String.self, at: "name")
        }
    }

    /// What the informer handed on, in order, as "page a,b", "replaced a,b", "added c", ...
    final class Recorder: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }

        func record(_ update: InformerUpdate<Named>) {
            let line: String
            switch update {
            case .listing(let objects): line = "page " + objects.map(\.name).joined(separator: ",")
            case .replaced(let objects): line = "replaced " + objects.map(\.name).sorted().joined(separator: ",")
            case .added(let object): line = "added " + object.name
            case .modified(let object): line = "modified " + object.name
            case .deleted(let object): line = "deleted " + object.name
            }
            lines.withLock { $0.append(line) }
        }

        func waitFor(_ line: String) async -> Bool { await asyncEventually { all.contains(line) } }
    }

    static func namespace(_ name: String) -> String { KubeObjectJSON.namespace(name) }

    /// Runs an informer over namespaces against `simulator` while `body` runs.
    func withInformer(
        _ simulator: KubeAPISimulator, access: ClusterAccess? = nil, pageSize: Int = 500, watchTimeout: Duration = .seconds(60),
        _ body: (Recorder) async throws -> Void
    ) async throws {
        let port = try await simulator.start()
        defer { Task { await simulator.stop() } }
        let client = try APIClient(
            access: access ?? ClusterAccess(server: URL(string: "http://127.0.0.1:\(port)")!), userAgent: "kube-dns-test/1")
        var settings = InformerSettings()
        settings.pageSize = pageSize
        settings.watchTimeout = watchTimeout
        let informer = Informer<Named>(client: client, resource: .namespaces, settings: settings, logger: Logger(label: "test"))
        let recorder = Recorder()
        let task = Task(executorPreference: BlockingExecutor.shared) { await informer.run { recorder.record($0) } }
        do {
            try await body(recorder)
        } catch {
            task.cancel()
            await client.shutdown()
            throw error
        }
        task.cancel()
        _ = await task.value
        await client.shutdown()
    }

    @Test func listsInPagesThenFollowsEvents() async throws {
        let simulator = try KubeAPISimulator()
        for name in ["a", "b", "c", "d", "e"] { try simulator.apply(Self.namespace(name)) }
        try await withInformer(simulator, pageSize: 2) { recorder in
            #expect(await recorder.waitFor("replaced a,b,c,d,e"))
            // Each page as it came, then the whole list.
            #expect(recorder.all.prefix(4) == ["page a,b", "page c,d", "page e", "replaced a,b,c,d,e"])
            let lists = simulator.requests.filter { $0.uri.hasPrefix("/api/v1/namespaces?") && !$0.uri.contains("watch") }
            #expect(lists.count == 3)
            #expect(lists.dropFirst().allSatisfy { $0.uri.contains("continue=") })
            #expect(lists.allSatisfy { $0.userAgent == "kube-dns-test/1" && $0.accept == "application/json" })

            try simulator.apply(Self.namespace("f"))
            #expect(await recorder.waitFor("added f"))
            try simulator.apply(Self.namespace("f"))
            #expect(await recorder.waitFor("modified f"))
            simulator.delete(.namespaces, name: "a")
            #expect(await recorder.waitFor("deleted a"))
            let watch = simulator.requests.first { $0.uri.contains("watch=true") }
            #expect(watch?.uri.contains("allowWatchBookmarks=true") == true)
            #expect(watch?.uri.contains("resourceVersion=6") == true)
        }
    }

    /// Watch events are handed on from the thread that read them, the
    /// client's stream loop, so a task preferring it takes them without
    /// another thread waking; the first list is not, so decoding its pages
    /// does not hold up reading the next.
    @Test func watchEventsAreHandedOnFromTheStreamLoop() async throws {
        let simulator = try KubeAPISimulator()
        try simulator.apply(Self.namespace("a"))
        let port = try await simulator.start()
        defer { Task { await simulator.stop() } }
        let client = try APIClient(access: ClusterAccess(server: URL(string: "http://127.0.0.1:\(port)")!), userAgent: "t")
        let informer = Informer<Named>(client: client, resource: .namespaces, settings: InformerSettings(), logger: Logger(label: "test"))
        let onStreamLoop = Mutex<[String: Bool]>([:])
        let task = Task(executorPreference: BlockingExecutor.shared) {
            await informer.run { update in
                let kind =
                    switch update {
                    case .listing, .replaced: "list"
                    case .added, .modified, .deleted: "event"
                    }
                onStreamLoop.withLock { $0[kind] = client.streamExecutor.loop.inEventLoop }
            }
        }
        #expect(await asyncEventually { onStreamLoop.withLock { $0["list"] } != nil })
        #expect(await asyncEventually { simulator.requests.contains { $0.uri.contains("watch=true") } })
        try simulator.apply(Self.namespace("b"))
        #expect(await asyncEventually { onStreamLoop.withLock { $0["event"] } != nil })
        #expect(onStreamLoop.withLock { $0 } == ["list": false, "event": true])
        task.cancel()
        _ = await task.value
        await client.shutdown()
    }

    @Test(arguments: [true, false])
    func anExpiredVersionRelistsAndDropsWhatWasDeletedMeanwhile(_ asHTTPStatus: Bool) async throws {
        let simulator = try KubeAPISimulator()
        simulator.reportGoneAsHTTPStatus(asHTTPStatus)
        for name in ["a", "b"] { try simulator.apply(Self.namespace(name)) }
        try await withInformer(simulator) { recorder in
            #expect(await recorder.waitFor("replaced a,b"))
            // Changes the informer misses: its watch is dropped and the history compacted.
            simulator.dropWatches()
            simulator.delete(.namespaces, name: "a")
            try simulator.apply(Self.namespace("c"))
            simulator.compact()
            #expect(await recorder.waitFor("replaced b,c"))
            #expect(!recorder.all.contains("replaced "))
            // Only the first list is handed on page by page; a relist comes whole.
            #expect(recorder.all.filter { $0.hasPrefix("page") } == ["page a,b"])
        }
    }

    @Test func anErrorEventInTheStreamRelists() async throws {
        let simulator = try KubeAPISimulator()
        try simulator.apply(Self.namespace("a"))
        try await withInformer(simulator) { recorder in
            #expect(await recorder.waitFor("replaced a"))
            #expect(await asyncEventually { simulator.openWatchCount == 1 })
            simulator.compact(endingWatches: true)
            try simulator.apply(Self.namespace("b"))
            #expect(await asyncEventually { recorder.all.filter { $0.hasPrefix("replaced") }.count == 2 })
            #expect(await asyncEventually { recorder.all.contains("replaced a,b") || recorder.all.contains("added b") })
        }
    }

    @Test func aStalledStreamIsReplaced() async throws {
        var configuration = KubeAPISimulator.Configuration()
        configuration.bookmarkInterval = .milliseconds(200)
        let simulator = try KubeAPISimulator(configuration)
        try simulator.apply(Self.namespace("a"))
        try await withInformer(simulator, watchTimeout: .seconds(1)) { recorder in
            #expect(await recorder.waitFor("replaced a"))
            #expect(await asyncEventually { simulator.requests.contains { $0.uri.contains("watch=true") } })
            let watchesBefore = simulator.requests.filter { $0.uri.contains("watch=true") }.count
            simulator.stallWatches()
            try simulator.apply(Self.namespace("b"))
            #expect(await recorder.waitFor("added b"))
            #expect(simulator.requests.filter { $0.uri.contains("watch=true") }.count > watchesBefore)
            // Replaced by a watch, not a relist: nothing was lost.
            #expect(recorder.all.filter { $0.hasPrefix("replaced") }.count == 1)
        }
    }

    @Test func serverErrorsAreRetriedWithoutClearingAnything() async throws {
        let simulator = try KubeAPISimulator()
        try simulator.apply(Self.namespace("a"))
        simulator.fail(status: 500, for: .seconds(2))
        try await withInformer(simulator) { recorder in
            #expect(recorder.all.isEmpty)
            #expect(await recorder.waitFor("replaced a"))
            simulator.fail(status: 429, for: .seconds(1))
            simulator.dropWatches()
            try simulator.apply(Self.namespace("b"))
            #expect(await recorder.waitFor("added b"))
            #expect(recorder.all.allSatisfy { $0 != "replaced " })
        }
    }

    /// A watch failing after more than a second counted as having worked:
    /// failing slowly, the server got a request every 1.5 s, forever.
    @Test func aServerFailingSlowlyIsAskedLessAndLessOften() async throws {
        let simulator = try KubeAPISimulator()
        try simulator.apply(Self.namespace("a"))
        try await withInformer(simulator) { recorder in
            #expect(await recorder.waitFor("replaced a"))
            let before = simulator.requests.count
            simulator.fail(status: 500, for: .seconds(60), delay: .milliseconds(1500))
            simulator.dropWatches()
            try await Task.sleep(for: .seconds(12))
            // 1.5 s each, then waits of 0.8-1.6, 1.6-3.2, 3.2-6.4 s: 4 requests at most (8 without backoff).
            #expect(simulator.requests.count - before <= 4, "\(simulator.requests.map(\.uri))")
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        let simulator = try KubeAPISimulator()
        try simulator.apply(Self.namespace("a"))
        simulator.fail(status: 429, for: .seconds(60), retryAfter: 4)
        try await withInformer(simulator) { recorder in
            // The time between the first request and the second, as the
            // simulator received them: the server's 4 s, not the
            // backoff's 0.8 to 1.6 s.
            #expect(await asyncEventually { simulator.requests.count >= 2 })
            let requests = simulator.requests
            #expect(requests[1].receivedAt - requests[0].receivedAt > .milliseconds(3500), "\(requests.map(\.uri))")
            simulator.fail(status: 429, for: .zero)
            #expect(await recorder.waitFor("replaced a"))
        }
    }

    @Test func theDiscoveryOfEndpointSlices() async throws {
        let simulator = try KubeAPISimulator()
        let port = try await simulator.start()
        let client = try APIClient(access: .masterURL("http://127.0.0.1:\(port)"), userAgent: "t")
        #expect(try await client.serves(groupVersion: "discovery.k8s.io/v1"))
        simulator.serveEndpointSlices(false)
        #expect(try await client.serves(groupVersion: "discovery.k8s.io/v1") == false)
        await client.shutdown()
        await simulator.stop()
    }

    @Test func anUnreachableServerIsAClearError() async throws {
        let client = try APIClient(access: .masterURL("http://127.0.0.1:1"), userAgent: "t")
        await #expect(throws: APIError.self) { try await client.serves(groupVersion: "v1") }
        do {
            _ = try await client.serves(groupVersion: "v1")
        } catch {
            #expect(error.description.contains("connect"), "\(error)")
        }
        await client.shutdown()
    }

    @Test func tlsWithACAAClientCertificateAndARotatingToken() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        var configuration = KubeAPISimulator.Configuration()
        configuration.tls = (try certificates.read(certificates.serverCertificatePath), try certificates.read(certificates.serverKeyPath))
        configuration.clientCA = try certificates.read(certificates.caPath)
        configuration.bearerToken = "first"
        let simulator = try KubeAPISimulator(configuration)
        try simulator.apply(Self.namespace("a"))
        let port = try await simulator.start()
        await simulator.stop()
        let tokenFile = certificates.directory + "/token"
        try "first".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        var access = ClusterAccess(server: URL(string: "https://127.0.0.1:\(port)")!)
        access.certificateAuthority = try Data(contentsOf: URL(fileURLWithPath: certificates.caPath))
        access.clientCertificate = try Data(contentsOf: URL(fileURLWithPath: certificates.clientCertificatePath))
        access.clientKey = try Data(contentsOf: URL(fileURLWithPath: certificates.clientKeyPath))
        access.credentials = .tokenFile(tokenFile)
        _ = try await simulator.start(port: port)
        let client = try APIClient(access: access, userAgent: "t")
        let names = try await Informer<Named>(
            client: client, resource: .namespaces, settings: InformerSettings(), logger: Logger(label: "t")
        ).list().0
        #expect(names.map(\.name) == ["a"])
        // A rotated token is read for the next request; the old one is refused.
        try "second".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        await #expect(throws: APIError.self) { try await client.serves(groupVersion: "discovery.k8s.io/v1") }
        #expect(simulator.requests.last?.authorization == "Bearer second")
        await client.shutdown()

        // Without the client certificate the handshake fails.
        access.clientCertificate = nil
        access.clientKey = nil
        let anonymous = try APIClient(access: access, userAgent: "t")
        await #expect(throws: APIError.self) { try await anonymous.serves(groupVersion: "v1") }
        await anonymous.shutdown()
        await simulator.stop()
    }
}
