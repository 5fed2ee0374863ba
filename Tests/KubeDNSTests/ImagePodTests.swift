import Foundation
import TestSupport
import Testing
import Yams

/// The image and the manifests for real, run by `scripts/test-image.sh`
/// (which builds the image and names it in KUBE_DNS_IMAGE): the image run
/// as a cluster runs it, and the legacy, drop-in and CoreDNS pods played
/// by podman against the API simulator, each answering DNS from its own
/// address and its probes on the ports its manifest names.
@Suite(.enabled(if: NetworkSandbox.image != nil, "KUBE_DNS_IMAGE names no image"), .serialized)
struct ImagePodTests {
    static var image: String { NetworkSandbox.image ?? "" }
    static let root = NetworkSandbox.repositoryRoot
    static let demoCluster = root.appendingPathComponent("deploy/demo/cluster.yaml").path
    /// The API server's port in the pods' environment (their own loopback).
    static let apiServerPort = 6443

    @Test func theImageServesTheDemoClusterNonRootReadOnlyWithOneCapability() throws {
        let sandbox = try NetworkSandbox()
        defer { sandbox.remove() }
        let version = try sandbox.podman(["run", "--rm", Self.image, "--version"])
        #expect(version == (try run(ServerProcess.binaryPath, ["--version"])).trimmingCharacters(in: .whitespacesAndNewlines))

        // The README's command, published on the sandbox's loopback.
        let container = try sandbox.runContainer(
            name: "kube-dns-demo-\(sandbox.namespace)",
            [
                "--read-only", "--cap-drop=all", "--cap-add=NET_BIND_SERVICE",
                "-p", "127.0.0.1:15353:53/udp", "-p", "127.0.0.1:15353:53/tcp",
                "-v", "\(Self.demoCluster):/demo/cluster.yaml:ro",
                Self.image, "--kube-objects", "/demo/cluster.yaml", "--nameservers", "",
            ])
        for tcp in [false, true] {
            var reply: DigReply?
            #expect(
                try eventually {
                    let answer = try sandbox.dig("kubernetes.default.svc.cluster.local", "A", server: "127.0.0.1", port: 15353, tcp: tcp)
                    reply = answer
                    return Self.records(answer.answer) == Self.records(["kubernetes.default.svc.cluster.local. 30 IN A 10.0.0.1"])
                }, "tcp \(tcp): \(reply?.output ?? "") \((try? sandbox.podman(["logs", container])) ?? "")")
        }
        let security = try ProcessSecurity(pid: sandbox.pid(ofContainer: container))
        #expect(security == ProcessSecurity(uid: 65532, gid: 65532, effectiveCapabilities: ProcessSecurity.netBindService))
        // Not even root in the container can write its root file system.
        let write = try sandbox.run(["/usr/bin/podman", "exec", "--user", "0", container, "/usr/bin/touch", "/written"])
        #expect(write.status != 0 && write.stderr.contains("Read-only file system"), "\(write)")
    }

    /// containerd and CRI-O add a pod's capabilities to the bounding set
    /// but not to the ambient one, so a non-root program starts with none
    /// (podman makes them ambient): `setpriv` clears the ambient and
    /// inheritable sets before kube-dns starts, as those runtimes leave them.
    @Test func portFiftyThreeIsBoundWithoutAmbientCapabilitiesAsContainerdStartsIt() throws {
        let sandbox = try NetworkSandbox()
        defer { sandbox.remove() }
        let container = try sandbox.runContainer(
            name: "kube-dns-no-ambient-\(sandbox.namespace)",
            [
                "--read-only", "--cap-drop=all", "--cap-add=NET_BIND_SERVICE", "-p", "127.0.0.1:15353:53/udp",
                "-v", "\(Self.demoCluster):/demo/cluster.yaml:ro", "--entrypoint", "/usr/bin/setpriv",
                Self.image, "--ambient-caps=-all", "--inh-caps=-all",
                "/usr/local/bin/kube-dns", "--kube-objects", "/demo/cluster.yaml", "--nameservers", "",
            ])
        var reply: DigReply?
        #expect(
            try eventually {
                let answer = try sandbox.dig("kubernetes.default.svc.cluster.local", "A", server: "127.0.0.1", port: 15353)
                reply = answer
                return Self.records(answer.answer) == Self.records(["kubernetes.default.svc.cluster.local. 30 IN A 10.0.0.1"])
            }, "\(reply?.output ?? "") \((try? sandbox.podman(["logs", container])) ?? "")")
        let security = try ProcessSecurity(pid: sandbox.pid(ofContainer: container))
        #expect(security == ProcessSecurity(uid: 65532, gid: 65532, effectiveCapabilities: ProcessSecurity.netBindService))
    }

    @Test func theLegacyPodServesTheSeedsAnswersFromEtcd() throws {
        try Self.withPod("deploy/legacy/kube-dns-v11.yaml") { sandbox, pod, manifest in
            var reply: DigReply?
            #expect(
                try eventually(timeout: .seconds(60)) {
                    let answer = try sandbox.dig("kubernetes.default.svc.cluster.local", "A", server: pod.address)
                    reply = answer
                    return Self.records(answer.answer) == Self.records(["kubernetes.default.svc.cluster.local. 30 IN A 10.0.0.1"])
                }, "\(reply?.output ?? "") \(Self.logs(sandbox, pod, manifest))")
            let srv = try sandbox.dig("_dns._udp.kube-dns.kube-system.svc.cluster.local", "SRV", server: pod.address, tcp: true)
            #expect(
                Self.records(srv.answer)
                    == Self.records([
                        "_dns._udp.kube-dns.kube-system.svc.cluster.local. 30 IN SRV 10 100 53 kube-dns.kube-system.svc.cluster.local."
                    ]), "\(srv.output)")
            // The 1.2 troubleshooting guide's check, in the etcd container.
            let keys = try sandbox.podman([
                "exec", pod.container("etcd"), "etcdctl", "ls", "/skydns/local/cluster/svc/kube-system/kube-dns",
            ])
            #expect(keys.split(separator: "\n").contains("/skydns/local/cluster/svc/kube-system/kube-dns/21172049"), "\(keys)")
            var healthz = (status: 0, body: "")
            #expect(
                try eventually {
                    healthz = try sandbox.get("http://\(pod.address):8080/healthz")
                    return healthz.status == 200
                }, "\(healthz)")
            #expect(healthz.body.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
            try Self.expectProbesAnswer(sandbox, pod, manifest)
        }
    }

    /// The drop-in Deployment, and kubeadm's CoreDNS Deployment with this image.
    struct Deployment: Sendable, CustomTestStringConvertible {
        let manifest: String
        let configMap: String
        let metricsPort: Int
        let metric: String
        var testDescription: String { manifest }
    }

    @Test(arguments: [
        Deployment(
            manifest: "deploy/kubernetes/deployment.yaml", configMap: "deploy/kubernetes/configmap.yaml", metricsPort: 10055,
            metric: "kube_dns_"),
        Deployment(
            manifest: "deploy/coredns/deployment.yaml", configMap: "deploy/coredns/configmap.yaml", metricsPort: 9153,
            metric: "coredns_dns_requests_total"),
    ])
    func aDeploymentAnswersAndItsProbesPass(_ deployment: Deployment) throws {
        try Self.withPod(deployment.manifest, configMaps: [deployment.configMap]) { sandbox, pod, manifest in
            try Self.expectClusterAnswers(sandbox, pod, manifest)
            try Self.expectProbesAnswer(sandbox, pod, manifest)
            let metrics = try sandbox.get("http://\(pod.address):\(deployment.metricsPort)/metrics")
            #expect(metrics.status == 200 && metrics.body.contains(deployment.metric), "\(metrics.status)")
        }
    }

    // MARK: Playing a manifest

    /// Plays the workload of `manifest` (a path under the repository) as
    /// its controller and the kubelet would, against the API simulator
    /// serving the demo cluster in the pod's own network, over TLS with the
    /// service account's token; runs `body`; removes everything.
    static func withPod(
        _ manifest: String, configMaps: [String] = [], _ body: (NetworkSandbox, PlayedPod, [String: Any]) throws -> Void
    ) throws {
        let workload = try #require(
            Yams.load_all(yaml: String(contentsOfFile: root.appendingPathComponent(manifest).path, encoding: .utf8))
                .compactMap { $0 as? [String: Any] }.first { ["Deployment", "ReplicationController"].contains($0["kind"] as? String) })
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let serviceAccount = try ServiceAccountFiles(certificateAuthority: certificates.read(certificates.caPath))
        defer { serviceAccount.remove() }
        let objects = certificates.directory + "/cluster.json"
        let cluster = try Yams.load_all(yaml: String(contentsOfFile: demoCluster, encoding: .utf8)).compactMap { $0 as? [String: Any] }
        try JSONSerialization.data(withJSONObject: ["items": cluster]).write(to: URL(fileURLWithPath: objects))
        let pod = try KubeletPod.pod(from: workload, image: image, serviceAccount: serviceAccount, apiServerPort: apiServerPort)

        let sandbox = try NetworkSandbox()
        defer { sandbox.remove() }
        let simulatorLog = certificates.directory + "/simulator.log"
        try Data().write(to: URL(fileURLWithPath: simulatorLog))
        let played = try sandbox.play(pod, configMaps: configMaps.map { root.appendingPathComponent($0).path }) { pid in
            let simulator = URL(fileURLWithPath: ServerProcess.binaryPath).deletingLastPathComponent().appendingPathComponent(
                "kube-api-simulator")
            _ = try sandbox.start(
                [
                    simulator.path, "--port", "\(apiServerPort)", "--objects", objects,
                    "--tls-certificate", certificates.serverCertificatePath, "--tls-key", certificates.serverKeyPath,
                    "--token-file", serviceAccount.tokenPath,
                ], inNetworkOf: pid, log: simulatorLog)
            let listening = eventually {
                (try? String(contentsOfFile: simulatorLog, encoding: .utf8))?.contains("listening on https://") == true
            }
            #expect(listening, "\((try? String(contentsOfFile: simulatorLog, encoding: .utf8)) ?? "")")
        }
        try body(sandbox, played, pod)
    }

    /// The demo cluster's names, as a pod of the cluster asks them of the pod's address.
    static func expectClusterAnswers(_ sandbox: NetworkSandbox, _ pod: PlayedPod, _ manifest: [String: Any]) throws {
        let expected = [
            ("kubernetes.default.svc.cluster.local", "A", ["kubernetes.default.svc.cluster.local. 30 IN A 10.0.0.1"]),
            ("10.0.0.10.in-addr.arpa", "PTR", ["10.0.0.10.in-addr.arpa. 30 IN PTR kube-dns.kube-system.svc.cluster.local."]),
            // A headless service's ready endpoints, from its EndpointSlice.
            (
                "postgres.data.svc.cluster.local", "A",
                ["postgres.data.svc.cluster.local. 30 IN A 10.1.2.10", "postgres.data.svc.cluster.local. 30 IN A 10.1.2.11"]
            ),
        ]
        var reply: DigReply?
        #expect(
            try eventually(timeout: .seconds(60)) {
                let answer = try sandbox.dig(expected[0].0, expected[0].1, server: pod.address)
                reply = answer
                return answer.rcode == "NOERROR" && !answer.answer.isEmpty
            }, "\(reply?.output ?? "") \(logs(sandbox, pod, manifest))")
        for (name, type, answer) in expected {
            for tcp in [false, true] {
                let reply = try sandbox.dig(name, type, server: pod.address, tcp: tcp)
                #expect(records(reply.answer, ttl: false) == records(answer, ttl: false), "\(reply.output)")
            }
        }
    }

    /// Records as ExpectedAnswer normalises them, sorted; without their
    /// TTL where the servers differ (CoreDNS's default is 5, kube-dns's 30).
    static func records(_ lines: [String], ttl: Bool = true) -> [String] {
        lines.map(ExpectedAnswer.normalize).map { record in
            let fields = record.split(separator: " ")
            return ttl || fields.count < 3 ? record : ([fields[0]] + fields.dropFirst(2)).joined(separator: " ")
        }.sorted()
    }

    /// Every container's liveness and readiness probe, on the port its
    /// manifest names (a number or a port name), answers 200; and every
    /// container runs as the manifest's security context asks.
    static func expectProbesAnswer(_ sandbox: NetworkSandbox, _ pod: PlayedPod, _ manifest: [String: Any]) throws {
        let spec = try #require(manifest["spec"] as? [String: Any])
        for container in try #require(spec["containers"] as? [[String: Any]]) {
            let name = try #require(container["name"] as? String)
            for probe in ["livenessProbe", "readinessProbe"] {
                guard let get = (container[probe] as? [String: Any])?["httpGet"] as? [String: Any] else { continue }
                let port = try #require(
                    get["port"] as? Int
                        ?? (container["ports"] as? [[String: Any]])?.first { $0["name"] as? String == get["port"] as? String }?[
                            "containerPort"]
                        as? Int, "\(name) \(probe): port \(get["port"] ?? "") is not among its ports")
                let url = "http://\(pod.address):\(port)\(get["path"] as? String ?? "/")"
                var status = 0
                #expect(
                    try eventually(timeout: .seconds(30)) {
                        status = try sandbox.get(url).status
                        return status == 200
                    }, "\(name) \(probe) \(url): \(status)")
            }
            let context = container["securityContext"] as? [String: Any] ?? [:]
            let added = (context["capabilities"] as? [String: Any])?["add"] as? [String] ?? []
            let expected = ProcessSecurity(
                uid: 65532, gid: 65532, effectiveCapabilities: added.contains("NET_BIND_SERVICE") ? ProcessSecurity.netBindService : 0,
                noNewPrivileges: context["allowPrivilegeEscalation"] as? Bool == false)
            #expect(try ProcessSecurity(pid: sandbox.pid(ofContainer: pod.container(name))) == expected, "\(name)")
            let readOnly = try sandbox.podman(["inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", pod.container(name)])
            #expect(readOnly == "\(context["readOnlyRootFilesystem"] as? Bool ?? false)", "\(name)")
        }
    }

    static func logs(_ sandbox: NetworkSandbox, _ pod: PlayedPod, _ manifest: [String: Any]) -> String {
        let containers = ((manifest["spec"] as? [String: Any])?["containers"] as? [[String: Any]] ?? []).compactMap {
            $0["name"] as? String
        }
        return containers.map { "\($0): \((try? sandbox.podman(["logs", pod.container($0)])) ?? "?")" }.joined(separator: "\n")
    }
}

/// Who a process runs as and with what, from /proc/PID/status.
struct ProcessSecurity: Equatable, CustomStringConvertible {
    static let netBindService: UInt64 = 1 << 10
    var uid: Int
    var gid: Int
    var effectiveCapabilities: UInt64
    var noNewPrivileges = false

    init(uid: Int, gid: Int, effectiveCapabilities: UInt64, noNewPrivileges: Bool = false) {
        self.uid = uid
        self.gid = gid
        self.effectiveCapabilities = effectiveCapabilities
        self.noNewPrivileges = noNewPrivileges
    }

    init(pid: Int32) throws {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func field(_ name: String) -> String {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }?.dropFirst(name.count + 1)
                .split(separator: "\t").first.map(String.init) ?? ""
        }
        uid = Int(field("Uid")) ?? -1
        gid = Int(field("Gid")) ?? -1
        effectiveCapabilities = UInt64(field("CapEff"), radix: 16) ?? .max
        noNewPrivileges = field("NoNewPrivs") == "1"
    }

    var description: String {
        "uid \(uid) gid \(gid) CapEff \(String(effectiveCapabilities, radix: 16)) NoNewPrivs \(noNewPrivileges)"
    }
}
