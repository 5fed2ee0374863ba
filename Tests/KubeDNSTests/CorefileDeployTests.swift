import Foundation
import TestSupport
import Testing
import Yams

/// deploy/coredns: kubeadm's CoreDNS manifests with only the image
/// changed, valid against the Kubernetes schemas and served as they are.
@Suite struct CorefileDeployTests {
    static let directory = DeployManifestTests.directory.deletingLastPathComponent().appendingPathComponent("coredns")

    @Test func theManifestsValidateAgainstTheKubernetesSchemas() throws {
        let manifests = DeployManifestTests.manifests(in: Self.directory)
        #expect(manifests.count == 4)
        let result = try runToEnd("/usr/bin/env", ["python3", "-m", "kubernetes_validate", "--strict", "--quiet"] + manifests)
        #expect(result.status == 0, "kubernetes-validate: \(result.stdout) \(result.stderr)")
    }

    @Test func theDeploymentsArgumentsAndProbesServeTheConfigMapsCorefile() throws {
        let documents = try DeployManifestTests.documents(DeployManifestTests.manifests(in: Self.directory))
        let deployment = try #require(documents.first { $0["kind"] as? String == "Deployment" })
        let pod = try #require((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])
        let container = try #require(((pod["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first)
        #expect(container["args"] as? [String] == ["-conf", "/etc/coredns/Corefile"])
        let configMap = try #require(documents.first { $0["kind"] as? String == "ConfigMap" })
        let corefile = try #require((configMap["data"] as? [String: String])?["Corefile"])
        // The probes and the metrics port are the plugins' defaults the Corefile leaves as they are.
        func probePort(_ name: String) -> Int? { ((container[name] as? [String: Any])?["httpGet"] as? [String: Any])?["port"] as? Int }
        #expect(probePort("livenessProbe") == 8080 && corefile.contains("    health {"))
        #expect(probePort("readinessProbe") == 8181 && corefile.contains("    ready\n"))
        let ports = (container["ports"] as? [[String: Any]]) ?? []
        #expect(ports.contains { $0["name"] as? String == "metrics" && $0["containerPort"] as? Int == 9153 })
        #expect(corefile.contains("prometheus :9153"))

        // The binary takes the Deployment's arguments as they are, the Corefile at the mounted path.
        let mounted = FileManager.default.temporaryDirectory.appendingPathComponent("coredns-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: mounted, withIntermediateDirectories: true)
        let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: CorefileFixtureTests.upstreamZone)
        defer { upstream.stop() }
        let adapted = FixtureCorefiles.adapt(corefile, .init(upstream: upstream.address, directory: mounted))
        try adapted.write(toFile: mounted + "/Corefile", atomically: true, encoding: .utf8)
        let args = (container["args"] as? [String] ?? []).map { $0 == "/etc/coredns/Corefile" ? mounted + "/Corefile" : $0 }
        let server = try ServerProcess(args + ["--kube-objects", Fixtures.clusterPath])
        defer { server.stop() }
        #expect(try httpStatus("http://127.0.0.1:\(try #require(server.ports["health"]))/health") == 200)
        #expect(try httpStatus("http://127.0.0.1:\(try #require(server.ports["ready"]))/ready") == 200)
        #expect(try httpStatus("http://127.0.0.1:\(try #require(server.ports["metrics"]))/metrics") == 200)
        #expect(try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port).normalized.answer.count == 1)
        #expect(try Dig.query("www.example.test.", "A", port: server.port).normalized.answer.count == 1)
    }
}
