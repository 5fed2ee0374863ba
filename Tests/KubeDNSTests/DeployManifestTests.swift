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

    static var manifests: [String] { manifests(in: directory) }

    static func manifests(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted().map { directory.appendingPathComponent($0).path }
    }

    /// Every document of every manifest, parsed.
    static func documents(_ manifests: [String] = manifests) throws -> [[String: Any]] {
        try manifests.flatMap { path in
            try Yams.load_all(yaml: String(contentsOfFile: path, encoding: .utf8)).compactMap { $0 as? [String: Any] }
        }
    }

    @Test func everyManifestValidatesAgainstTheKubernetesSchemas() throws {
        let legacy = Self.manifests(in: LegacyManifestTests.directory)
        let examples = Self.manifests(in: Self.directory.appendingPathComponent("examples"))
        let nodeLocal = Self.manifests(in: Self.directory.deletingLastPathComponent().appendingPathComponent("nodelocaldns"))
        #expect(Self.manifests.count >= 5)
        #expect(legacy.count >= 2)
        #expect(examples.count >= 1 && nodeLocal.count >= 1)
        let result = try runToEnd(
            "/usr/bin/env",
            ["python3", "-m", "kubernetes_validate", "--strict", "--quiet"] + Self.manifests + legacy + examples + nodeLocal)
        #expect(result.status == 0, "kubernetes-validate (pip install kubernetes-validate): \(result.stdout) \(result.stderr)")
    }

    /// The autoscaler scales this Deployment, reads its own ConfigMap, and
    /// that ConfigMap's linear parameters are the addons' four.
    @Test func theAutoscalerTargetsTheDNSDeploymentWithLinearParameters() throws {
        let documents = try Self.documents()
        func named(_ kind: String, _ name: String) -> [String: Any]? {
            documents.first { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name }
        }
        let autoscaler = try #require(named("Deployment", "kube-dns-autoscaler"))
        let pod = try #require((autoscaler["spec"] as? [String: Any])?["template"] as? [String: Any])
        let command = try #require(((pod["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first?["command"] as? [String])
        #expect(command.contains("--target=deployment/kube-dns"))
        #expect(command.contains("--namespace=kube-system"))
        #expect(named("Deployment", "kube-dns") != nil)
        let configMap = try #require(named("ConfigMap", "kube-dns-autoscaler"))
        #expect(command.contains("--configmap=kube-dns-autoscaler"))
        let linear = try #require((configMap["data"] as? [String: Any])?["linear"] as? String)
        let parameters = try #require(try JSONSerialization.jsonObject(with: Data(linear.utf8)) as? [String: Any])
        #expect(parameters["coresPerReplica"] as? Int == 256 && parameters["nodesPerReplica"] as? Int == 16)
        #expect(parameters["preventSinglePointFailure"] as? Bool == true && parameters["includeUnschedulableNodes"] as? Bool == true)
        // What it may do: list nodes and scale Deployments, nothing more.
        let role = try #require(named("ClusterRole", "system:kube-dns-autoscaler"))
        let resources = ((role["rules"] as? [[String: Any]]) ?? []).flatMap { $0["resources"] as? [String] ?? [] }
        #expect(Set(resources) == ["nodes", "deployments/scale", "replicasets/scale", "configmaps"])
    }

    @Test func theDeploymentsFlagsPortsAndProbesAreWhatTheBinaryServes() throws {
        let documents = try Self.documents()
        let deployment = try #require(
            documents.first {
                $0["kind"] as? String == "Deployment" && ($0["metadata"] as? [String: Any])?["name"] as? String == "kube-dns"
            })
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
        #expect(containerPort("metrics").map(String.init) == flag("metrics-port"))
        // The ConfigMap is mounted where --config-dir reads it.
        let mounts = (container["volumeMounts"] as? [[String: Any]]) ?? []
        #expect(mounts.contains { $0["mountPath"] as? String == flag("config-dir") && $0["name"] as? String == "kube-dns-config" })
        let volumes = ((pod["spec"] as? [String: Any])?["volumes"] as? [[String: Any]]) ?? []
        let configMapName = volumes.first { $0["name"] as? String == "kube-dns-config" }.flatMap {
            ($0["configMap"] as? [String: Any])?["name"] as? String
        }
        let configMap = try #require(
            documents.first { $0["kind"] as? String == "ConfigMap" && ($0["metadata"] as? [String: Any])?["name"] as? String == "kube-dns" }
        )
        #expect(configMapName == (configMap["metadata"] as? [String: Any])?["name"] as? String)
        let data = (configMap["data"] as? [String: String]) ?? [:]
        #expect(Set(data.keys) == ["stubDomains", "upstreamNameservers"])
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
        // The ConfigMap's files, as the kubelet writes them, are read as they are.
        let configDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("kube-dns-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: configDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: configDirectory) }
        for (key, value) in data { try value.write(to: configDirectory.appendingPathComponent(key), atomically: true, encoding: .utf8) }
        let kept = args.filter {
            !["--dns-port=", "--healthz-port=", "--metrics-port=", "--lameduck=", "--config-dir="].contains(where: $0.hasPrefix)
        }
        let server = try ServerProcess(kept + ["--kube-objects", Fixtures.clusterPath, "--config-dir", configDirectory.path])
        defer { server.stop() }
        #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/healthz") == 200)
        #expect(try eventually { try httpStatus("http://127.0.0.1:\(server.healthzPort)/readiness") == 200 })
        #expect(try httpStatus("http://127.0.0.1:\(server.metricsPort)/metrics") == 200)
        #expect(!server.log.contains("upstream configuration invalid"))
    }
}
