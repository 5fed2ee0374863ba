import Foundation
import KubeAPISimulator
import TestSupport
import Testing

/// The simulator speaks the API server's list and watch protocol, as the
/// real curl sees it.
@Suite struct ProtocolTests {
    func curl(_ url: String, _ extra: [String] = []) throws -> (status: Int, body: String) {
        let output = try run("/usr/bin/curl", ["-s", "-N", "--max-time", "5", "-w", "\n%{http_code}"] + extra + [url])
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    func withSimulator(_ configuration: KubeAPISimulator.Configuration = .init(), _ body: (KubeAPISimulator, String) async throws -> Void)
        async throws
    {
        let simulator = try KubeAPISimulator(configuration)
        let port = try await simulator.start()
        do {
            try await body(simulator, "http://127.0.0.1:\(port)")
        } catch {
            await simulator.stop()
            throw error
        }
        await simulator.stop()
    }

    @Test func pagedListsCarryTheFirstPagesVersion() async throws {
        try await withSimulator { simulator, base throws in
            for name in ["a", "b", "c"] { try simulator.apply(KubeObjectJSON.namespace(name)) }
            let first = try json(try curl(base + "/api/v1/namespaces?limit=2").body)
            #expect(first["kind"] as? String == "NamespaceList")
            let meta = first["metadata"] as? [String: Any] ?? [:]
            #expect((first["items"] as? [Any])?.count == 2)
            #expect(meta["resourceVersion"] as? String == "4")
            let token = try #require(meta["continue"] as? String)
            try simulator.apply(KubeObjectJSON.namespace("d"))
            let second = try json(try curl(base + "/api/v1/namespaces?limit=2&continue=\(token)").body)
            #expect((second["metadata"] as? [String: Any])?["resourceVersion"] as? String == "4")
            let names = (second["items"] as? [[String: Any]])?.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
            #expect(names == ["c", "d"])
            simulator.compact()
            #expect(try curl(base + "/api/v1/namespaces?limit=2&continue=\(token)").status == 410)
        }
    }

    @Test func aWatchReplaysFromItsVersionStreamsAndEnds() async throws {
        var configuration = KubeAPISimulator.Configuration()
        configuration.bookmarkInterval = .milliseconds(300)
        try await withSimulator(configuration) { simulator, base throws in
            try simulator.apply(KubeObjectJSON.namespace("a"))
            try simulator.apply(KubeObjectJSON.namespace("b"))
            simulator.delete(.namespaces, name: "a")
            let (status, body) = try curl(
                base + "/api/v1/namespaces?watch=true&resourceVersion=2&timeoutSeconds=1&allowWatchBookmarks=true")
            #expect(status == 200)
            let events = try body.split(separator: "\n").map { try json(String($0)) }
            #expect(events.prefix(2).map { $0["type"] as? String } == ["ADDED", "DELETED"])
            #expect(events.dropFirst(2).allSatisfy { $0["type"] as? String == "BOOKMARK" } && events.count > 2)
        }
    }

    @Test func anExpiredWatchIsGoneInTheStreamOrAsAStatus() async throws {
        try await withSimulator { simulator, base throws in
            try simulator.apply(KubeObjectJSON.namespace("a"))
            simulator.compact()
            let (status, body) = try curl(base + "/api/v1/namespaces?watch=true&resourceVersion=1")
            #expect(status == 200)
            let event = try json(body)
            #expect(event["type"] as? String == "ERROR")
            #expect((event["object"] as? [String: Any])?["code"] as? Int == 410)
            simulator.reportGoneAsHTTPStatus(true)
            #expect(try curl(base + "/api/v1/namespaces?watch=true&resourceVersion=1").status == 410)
        }
    }

    @Test func faultsAndAuthentication() async throws {
        var configuration = KubeAPISimulator.Configuration()
        configuration.bearerToken = "secret"
        try await withSimulator(configuration) { simulator, base throws in
            #expect(try curl(base + "/api/v1/services").status == 401)
            let auth = ["-H", "Authorization: Bearer secret"]
            #expect(try curl(base + "/api/v1/services", auth).status == 200)
            simulator.fail(status: 429, for: .seconds(30))
            #expect(try curl(base + "/api/v1/services", auth).status == 429)
            simulator.fail(status: 500, for: .zero)
            simulator.serveEndpointSlices(false)
            #expect(try curl(base + "/apis/discovery.k8s.io/v1/endpointslices", auth).status == 404)
            #expect(try curl(base + "/apis/discovery.k8s.io/v1", auth).status == 404)
        }
    }

    @Test func writesStoreAndDeleteObjectsAsTheAPIServerDoes() async throws {
        try await withSimulator { simulator, base throws in
            let service = KubeObjectJSON.service("web", "prod", clusterIPs: ["10.0.0.9"])
            let put = try curl(base + "/api/v1/namespaces/prod/services/web", ["-X", "PUT", "-d", service])
            #expect(put.status == 200)
            #expect((try json(put.body)["metadata"] as? [String: Any])?["resourceVersion"] as? String == "2")
            #expect(try curl(base + "/api/v1/namespaces/prod/endpoints/web", ["-X", "PUT", "-d", service]).status == 400)
            let list = try json(try curl(base + "/api/v1/services").body)
            #expect((list["items"] as? [Any])?.count == 1)
            #expect(try curl(base + "/api/v1/namespaces/prod/services/web", ["-X", "DELETE"]).status == 200)
            #expect(try curl(base + "/api/v1/namespaces/prod/services/web", ["-X", "DELETE"]).status == 404)
            #expect(simulator.resourceVersion == 3)
        }
    }
}
