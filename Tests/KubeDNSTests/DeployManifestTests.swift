import Foundation
import TestSupport
import Testing
import Yams

/// The manifests in deploy/kubernetes: valid against the Kubernetes
/// schemas (offline, with PyPI's kubernetes-validate), and consistent with
/// what the binary accepts and serves.
@Suite struct DeployManifestTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/kubernetes")

    static var manifests: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted().map { directory.appendingPathComponent($0).path }
    }

    /// Every document of every manifest, parsed.
    static func documents() throws -> [[String: Any]] {
        try manifests.flatMap { path in
            try Yams.load_all(yaml: String(contentsOfFile: path, encoding: .utf8)).compactMap { $0 as? [String: Any] }
        }
    }

    @Test func everyManifestValidatesAgainstTheKubernetesSchemas() throws {
        #expect(Self.manifests.count >= 4)
        let result = try runToEnd("/usr/bin/env", ["python3", "-m", "kubernetes_validate", "--strict", "--quiet"] + Self.manifests)
        #expect(result.status == 0, "kubernetes-validate (pip install kubernetes-validate): \(result.stdout) \(result.stderr)")
    }

    @Test func theDeploymentsFlagsPortsAndProbesAreWhatTheBinaryServes() throws {
        let documents = try Self.documents()
        let deployment = try #require(documents.first { $0["kind"] as? String == "Deployment" })
        let pod = try #require((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])
        let container = try #require(((pod["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first)
        let args = try #require(container["args"] as? [String])
        func flag(_ name: String) -> String? {
            args.first { $0.hasPrefix("--\(name)=") }.map { String($0.dropFirst(name.count + 3)) }
        }
        let ports = (container["ports"] as? [[String: Any]]) ?? []
        func containerPort(_ name: String) -> Int? { ports.first { $0["name"] as? String == name }?["containerPort"] as? Int }
        #expect(containerPort("dns").map(String.init) == flag("dns-port"))
        #expect(containerPort("dns-tcp").map(String.init) == flag("dns-port"))
        #expect(containerPort("healthz").map(String.init) == flag("healthz-port"))
        let liveness = container["livenessProbe"] as? [String: Any]
        let readiness = container["readinessProbe"] as? [String: Any]
        #expect((liveness?["httpGet"] as? [String: Any])?["path"] as? String == "/healthz")
        #expect((readiness?["httpGet"] as? [String: Any])?["path"] as? String == "/readiness")
        #expect((liveness?["httpGet"] as? [String: Any])?["port"] as? String == "healthz")
        #expect((readiness?["httpGet"] as? [String: Any])?["port"] as? String == "healthz")

        // The pod is given longer to stop than the lame duck lasts.
        let grace = try #require((pod["spec"] as? [String: Any])?["terminationGracePeriodSeconds"] as? Int)
        let lameduck = try #require(flag("lameduck").flatMap { Int($0.dropLast()) })
        #expect(grace > lameduck + 2)

        // The Service sends DNS to ports the container names.
        let service = try #require(documents.first { $0["kind"] as? String == "Service" })
        for port in ((service["spec"] as? [String: Any])?["ports"] as? [[String: Any]]) ?? [] {
            #expect(containerPort(port["targetPort"] as? String ?? "") != nil, "\(port)")
        }

        // The binary takes the manifest's flags as they are (ports moved to
        // free ones, the cluster from the fixture file) and serves both probes.
        let kept = args.filter { !$0.hasPrefix("--dns-port=") && !$0.hasPrefix("--healthz-port=") && !$0.hasPrefix("--lameduck=") }
        let server = try ServerProcess(kept + ["--kube-objects", Fixtures.clusterPath])
        defer { server.stop() }
        #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/healthz") == 200)
        #expect(try eventually { try httpStatus("http://127.0.0.1:\(server.healthzPort)/readiness") == 200 })
    }
}
