import Foundation
import KubeAPISimulator
import TestSupport
import Testing

/// `/metrics` in the Prometheus text format, under CoreDNS's names, counting
/// what the server did.
@Suite(.serialized) struct MetricsTests {
    /// The samples of an exposition, by name and labels as written.
    static func scrape(_ port: UInt16) throws -> (text: String, samples: [String: Double]) {
        let text = try run("/usr/bin/curl", ["-s", "--max-time", "2", "http://127.0.0.1:\(port)/metrics"])
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return (text, samples)
    }

    /// Checks the exposition with the Prometheus client library's own parser (PyPI prometheus-client).
    static func parsesAsPrometheusText(_ text: String) throws -> Bool {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let script =
            "import sys; from prometheus_client.parser import text_string_to_metric_families as p; print(len(list(p(open(sys.argv[1]).read()))))"
        let (status, stdout, stderr) = try runToEnd("/usr/bin/env", ["python3", "-c", script, file.path])
        if status != 0 { Issue.record("the parser refused it: \(stderr)") }
        return status == 0 && (Int(stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 20
    }

    @Test func theDataPlaneCountsQueriesRepliesAndForwarding() throws {
        let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: ForwardingTests.zone)
        defer { upstream.stop() }
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--nameservers", upstream.address])
        defer { server.stop() }
        let before = try Self.scrape(server.metricsPort).samples
        let serverLabel = "server=\"dns://:\(server.port)\""
        let zone = "\(serverLabel),zone=\".\",view=\"\""
        let cache = "\(serverLabel),zones=\".\",view=\"\""
        for _ in 0..<3 { _ = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port) }
        _ = try Dig.query("kubernetes.default.svc.cluster.local.", "AAAA", port: server.port, tcp: true)
        _ = try Dig.query("nothing.default.svc.cluster.local.", "SRV", port: server.port, options: ["+dnssec"])
        for _ in 0..<2 { _ = try Dig.query("www.example.test.", "A", port: server.port) }

        let (text, after) = try Self.scrape(server.metricsPort)
        func delta(_ sample: String) -> Double { (after[sample] ?? .nan) - (before[sample] ?? 0) }
        // The readiness checks of the test support asked dns-version TXT before; only the deltas count here.
        #expect(delta("coredns_dns_requests_total{\(zone),proto=\"udp\",family=\"1\",type=\"A\"}") == 5)
        #expect(delta("coredns_dns_requests_total{\(zone),proto=\"tcp\",family=\"1\",type=\"AAAA\"}") == 1)
        #expect(delta("coredns_dns_requests_total{\(zone),proto=\"udp\",family=\"1\",type=\"SRV\"}") == 1)
        #expect(delta("coredns_dns_do_requests_total{\(zone)}") == 1)
        // Each reply by what made it: the cluster's table, the upstream, the cache.
        #expect(delta("coredns_dns_responses_total{\(zone),rcode=\"NXDOMAIN\",plugin=\"kubernetes\"}") == 1)
        #expect(delta("coredns_dns_responses_total{\(zone),rcode=\"NOERROR\",plugin=\"kubernetes\"}") == 4)
        #expect(delta("coredns_dns_responses_total{\(zone),rcode=\"NOERROR\",plugin=\"forward\"}") == 1)
        #expect(delta("coredns_dns_responses_total{\(zone),rcode=\"NOERROR\",plugin=\"cache\"}") == 1)
        #expect(delta("coredns_dns_request_duration_seconds_count{\(zone)}") == 7)
        #expect(
            after["coredns_dns_request_duration_seconds_bucket{\(zone),le=\"+Inf\"}"]
                == after["coredns_dns_request_duration_seconds_count{\(zone)}"])
        #expect(delta("coredns_dns_request_size_bytes_count{\(zone),proto=\"udp\"}") == 6)
        #expect(delta("coredns_dns_request_size_bytes_count{\(zone),proto=\"tcp\"}") == 1)
        #expect(delta("coredns_dns_response_size_bytes_count{\(zone),proto=\"udp\"}") == 6)
        #expect(delta("coredns_dns_response_size_bytes_count{\(zone),proto=\"tcp\"}") == 1)
        #expect(delta("coredns_cache_requests_total{\(cache)}") == 2)
        #expect(delta("coredns_cache_misses_total{\(cache)}") == 1)
        #expect(delta("coredns_cache_hits_total{\(cache),type=\"success\"}") == 1)
        #expect(delta("coredns_cache_hits_total{\(cache),type=\"denial\"}") == 0)
        #expect(after["coredns_cache_entries{\(cache),type=\"success\"}"] == 1)
        // The one query the upstream answered; its loop probe is not a client's.
        let proxy = "proxy_name=\"forward\",to=\"\(upstream.address)\""
        #expect(after["coredns_proxy_request_duration_seconds_count{\(proxy),rcode=\"NOERROR\"}"] == 1)
        #expect(after["coredns_proxy_healthcheck_failures_total{\(proxy)}"] == 0)
        #expect((after["kube_dns_forward_requests_total{to=\"\(upstream.address)\"}"] ?? 0) >= 2)
        #expect(after["kube_dns_forward_upstream_down{to=\"\(upstream.address)\"}"] == 0)
        #expect(after.keys.contains { $0.hasPrefix("kube_dns_build_info{version=") })
        #expect((after["kube_dns_publications_total"] ?? 0) >= 1)
        #expect((after["kube_dns_names"] ?? 0) > 50)
        #expect(try Self.parsesAsPrometheusText(text))
    }

    @Test func informersCountEventsAndErrors() async throws {
        try await withSimulatedCluster([J.namespace("prod")]) { simulator, server, _ throws in
            try simulator.apply(J.service("web", "prod", clusterIPs: ["10.0.0.20"]))
            Lookup.expectEventually("web.prod.svc", port: server.port, Lookup.ok("a 10.0.0.20"))
            try simulator.apply(J.service("web", "prod", clusterIPs: ["10.0.0.21"]))
            Lookup.expectEventually("web.prod.svc", port: server.port, Lookup.ok("a 10.0.0.21"))
            let samples = try Self.scrape(server.metricsPort).samples
            #expect(samples["kube_dns_informer_events_total{resource=\"services\",type=\"ADDED\"}"] == 1)
            #expect(samples["kube_dns_informer_events_total{resource=\"services\",type=\"MODIFIED\"}"] == 1)
            #expect((samples["kube_dns_publications_total"] ?? 0) >= 3)
        }
    }

    /// CoreDNS's DNS programming latency: from the endpoints controller's
    /// change time to the change served, by the kind of Service.
    @Test func programmingLatencyRunsFromTheControllersChangeToTheAnswer() async throws {
        let objects = [
            J.namespace("prod"), J.service("web", "prod", clusterIPs: ["10.0.0.20"]), J.service("db", "prod", clusterIPs: ["None"]),
        ]
        try await withSimulatedCluster(objects) { simulator, server, _ throws in
            let changed = Date(timeIntervalSinceNow: -3)
            try simulator.apply(J.endpointSlice("web", "prod", endpoints: [.init("10.1.0.1")], changedAt: changed))
            try simulator.apply(J.endpointSlice("db", "prod", endpoints: [.init("10.1.0.2")], changedAt: changed))
            // No change time: not measured.
            try simulator.apply(J.endpointSlice("db", "prod", suffix: "b", endpoints: [.init("10.1.0.3")]))
            Lookup.expectEventually("db.prod.svc", port: server.port, Lookup.ok("a 10.1.0.2", "a 10.1.0.3"))
            let name = "coredns_kubernetes_dns_programming_duration_seconds"
            // Measured once the table is out, just after the answer above could be given.
            var samples: [String: Double] = [:]
            #expect(
                try eventually(timeout: .seconds(5)) {
                    samples = try Self.scrape(server.metricsPort).samples
                    return samples["\(name)_count{service_kind=\"cluster_ip\"}"] != nil
                })
            for kind in ["cluster_ip", "headless_with_selector"] {
                #expect(samples["\(name)_count{service_kind=\"\(kind)\"}"] == 1, "\(kind)")
                let seconds = samples["\(name)_sum{service_kind=\"\(kind)\"}"] ?? 0
                #expect(seconds >= 3 && seconds < 60, "\(kind): \(seconds)")
            }
        }
    }
}
