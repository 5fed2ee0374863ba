import Etcd
import Foundation
import RecordModel
import Synchronization
import TestSupport
import Testing

/// The etcd client against a real etcd.
@Suite struct EtcdClientTests {
    @Test func keysValuesPrefixesAndCompareAndSwap() async throws {
        let etcd = try EtcdServer()
        try await withEtcdClient([etcd.url]) { client in
            let first = try await client.put("/skydns/local/cluster/a", "1")
            try await client.put("/skydns/local/cluster/b/x", "2")
            try await client.put("/skydns/local/clusterx", "not under the prefix")
            let (kvs, revision) = try await client.range(prefix: "/skydns/local/cluster/")
            #expect(kvs.map(\.key) == ["/skydns/local/cluster/a", "/skydns/local/cluster/b/x"])
            #expect(kvs.map(\.value) == ["1", "2"])
            #expect(revision >= first + 2)
            #expect(try await client.get("/skydns/local/cluster/a")?.modRevision == first)
            #expect(try await client.get("/nothing") == nil)

            // Compare-and-swap on the modification revision.
            #expect(try await client.put("/skydns/local/cluster/a", "3", ifModRevision: first))
            #expect(try await !client.put("/skydns/local/cluster/a", "4", ifModRevision: first))
            #expect(try await client.get("/skydns/local/cluster/a")?.value == "3")
            #expect(try await client.put("/new", "5", ifModRevision: 0))
            #expect(try await !client.put("/new", "6", ifModRevision: 0))

            #expect(try await client.delete("/skydns/local/cluster/", prefix: true) == 2)
            #expect(try await client.range(prefix: "/skydns/local/cluster/").kvs.isEmpty)
            #expect(try await client.get("/skydns/local/clusterx")?.value == "not under the prefix")
        }
    }

    /// Writes in transactions of 128 and reads in pages: 300 keys written
    /// and read back whole, then deleted by a prefix in the same way.
    @Test func batchedWritesAndPagedReads() async throws {
        let etcd = try EtcdServer()
        try await withEtcdClient([etcd.url]) { client in
            let keys = (0..<300).map { String(format: "/skydns/local/cluster/k%03d", $0) }
            try await client.apply(keys.map { .put(key: $0, value: "v" + $0.suffix(3)) })
            let (kvs, _) = try await client.range(prefix: "/skydns/local/cluster/", pageSize: 7)
            #expect(kvs.map(\.key) == keys)
            #expect(kvs.last?.value == "v299")
            try await client.apply([.delete(key: keys[0]), .deletePrefix("/skydns/local/cluster/k2")])
            let left = try await client.range(prefix: "/skydns/local/cluster/", pageSize: 50).kvs
            #expect(left.count == 199)
            #expect(left.first?.key == keys[1])
        }
    }

    @Test func aWatchFollowsFromARevisionAndSaysWhenItWasCompacted() async throws {
        let etcd = try EtcdServer()
        try await withEtcdClient([etcd.url]) { client in
            let start = try await client.put("/skydns/w/1", "a")
            try await client.put("/skydns/w/2", "b")
            try await client.delete("/skydns/w/1")
            let seen = Events()
            let watching = Task {
                try await client.watch(prefix: "/skydns/w/", from: start) { batch in seen.append(batch.events) }
            }
            #expect(await asyncEventually(timeout: .seconds(10)) { seen.count == 3 })
            try await client.put("/skydns/w/3", "c")
            #expect(await asyncEventually(timeout: .seconds(10)) { seen.count == 4 })
            watching.cancel()
            let events = seen.all
            #expect(events.count == 4)
            if events.count == 4 {
                guard case .put(let first) = events[0], case .delete(let key, _) = events[2], case .put(let last) = events[3] else {
                    Issue.record("unexpected events \(events)")
                    return
                }
                #expect(first.key == "/skydns/w/1" && first.value == "a")
                #expect(key == "/skydns/w/1")
                #expect(last.value == "c")
            }

            // Compacted history: the watch says so, with the revision to read from.
            let now = try await client.put("/skydns/w/4", "d")
            let compacted = try runToEnd("/usr/bin/etcdctl", ["--endpoints", etcd.url, "compact", "\(now)"])
            #expect(compacted.status == 0, "\(compacted.stderr)")
            await #expect(throws: EtcdError.compacted(revision: now)) {
                try await client.watch(prefix: "/skydns/w/", from: start) { _ in }
            }
        }
    }

    @Test func anotherEndpointIsTriedAndAnUnreachableOneIsAClearError() async throws {
        let etcd = try EtcdServer()
        let dead = "http://127.0.0.1:\(try freePort())"
        try await withEtcdClient([dead, etcd.url]) { client in
            try await client.put("/k", "v")
            #expect(try await client.get("/k")?.value == "v")
        }
        try await withEtcdClient([dead], timeout: .seconds(2)) { alone in
            do {
                _ = try await alone.get("/k")
                Issue.record("no error")
            } catch {
                #expect("\(error)".hasPrefix("etcd at \(dead) cannot be reached"), "\(error)")
            }
        }
        #expect(throws: EtcdError.configuration("not-a-url is not an http:// or https:// URL")) { try EtcdClient(endpoints: ["not-a-url"]) }
    }
}

/// Events seen by a watch, read from the test.
final class Events: Sendable {
    private let events = Mutex<[EtcdEvent]>([])
    func append(_ more: [EtcdEvent]) { events.withLock { $0 += more } }
    var count: Int { events.withLock { $0.count } }
    var all: [EtcdEvent] { events.withLock { $0 } }
}
