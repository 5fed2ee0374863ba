import Foundation
import KubeAPISimulator
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// deploy/legacy, the Kubernetes 1.2 pod: its containers' command lines,
/// run as they are (ports moved to free ones, etcd's URL to the test's
/// etcd), work together: kube2sky fills etcd, skydns answers from it, and
/// the exechealthz command probes skydns.
@Suite struct LegacyManifestTests {
    static let directory = DeployManifestTests.directory.deletingLastPathComponent().appendingPathComponent("legacy")

    /// The pod template's containers, by name.
    static func containers() throws -> [String: [String: Any]] {
        let documents = try DeployManifestTests.documents(DeployManifestTests.manifests(in: directory))
        let controller = try #require(documents.first { $0["kind"] as? String == "ReplicationController" })
        let template = try #require((controller["spec"] as? [String: Any])?["template"] as? [String: Any])
        let list = try #require((template["spec"] as? [String: Any])?["containers"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as? String ?? "", $0) })
    }

    static func args(_ container: [String: Any]?) -> [String] {
        (container?["args"] as? [String]) ?? (container?["command"] as? [String]) ?? []
    }

    @Test func theFourContainersAgreeOnPortsAndURLs() throws {
        let containers = try Self.containers()
        #expect(Set(containers.keys) == ["etcd", "kube2sky", "skydns", "healthz"])
        let etcd = Self.args(containers["etcd"])
        let clientURLs = try #require(etcd.first { $0.hasPrefix("-listen-client-urls=") }).split(separator: "=")[1]
            .split(separator: ",")
        // kube2sky and skydns reach etcd on a URL it listens on.
        let kube2skyEtcd = try #require(Self.args(containers["kube2sky"]).first { $0.hasPrefix("--etcd-server=") })
            .split(separator: "=")[1]
        let skydnsEtcd = try #require(Self.args(containers["skydns"]).first { $0.hasPrefix("-machines=") }).split(
            separator: "=")[1]
        #expect(clientURLs.contains(kube2skyEtcd))
        #expect(clientURLs.contains(skydnsEtcd))
        // etcd's data is on the pod's volume.
        let mounts = (containers["etcd"]?["volumeMounts"] as? [[String: Any]]) ?? []
        #expect(etcd.contains("-data-dir=\(mounts.first?["mountPath"] as? String ?? "?")"))
        // The probes name the ports kube2sky's and exechealthz's flags give.
        let kube2sky = containers["kube2sky"]
        let readiness = (kube2sky?["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any]
        let liveness = (kube2sky?["livenessProbe"] as? [String: Any])?["httpGet"] as? [String: Any]
        #expect(Self.args(kube2sky).contains("--healthz-port=\(readiness?["port"] as? Int ?? 0)"))
        #expect(readiness?["path"] as? String == "/readiness")
        #expect(Self.args(containers["healthz"]).contains("-port=\(liveness?["port"] as? Int ?? 0)"))
        #expect(liveness?["path"] as? String == "/healthz")
        // skydns serves DNS on the ports the container names.
        let ports = (containers["skydns"]?["ports"] as? [[String: Any]]) ?? []
        #expect(Self.args(containers["skydns"]).contains("-addr=0.0.0.0:\(ports.first?["containerPort"] as? Int ?? 0)"))
    }

    @Test func theContainersCommandLinesWorkTogether() async throws {
        let containers = try Self.containers()
        try await offThePool {
            let etcd = try EtcdServer()
            let simulator = try KubeAPISimulator()
            try simulator.apply(J.namespace("default"))
            try simulator.apply(
                J.service("kubernetes", "default", clusterIPs: ["10.0.0.1"], ports: [.init("https", 443)]))
            let api = "http://127.0.0.1:\(try await simulator.start())"
            do {
                try Self.runContainers(containers, etcd: etcd, api: api)
            } catch {
                await simulator.stop()
                throw error
            }
            await simulator.stop()
        }
    }

    /// kube2sky, skydns and the health check as the manifest runs them.
    static func runContainers(_ containers: [String: [String: Any]], etcd: EtcdServer, api: String) throws {
        let toTestEtcd = { (arg: String) in arg.replacingOccurrences(of: "http://127.0.0.1:4001", with: etcd.url) }

        let kube2sky = try Kube2SkyProcess(
            arguments: Self.args(containers["kube2sky"]).map { arg in
                arg.hasPrefix("--healthz-port=") ? "--healthz-port=0" : toTestEtcd(arg)
            } + ["--kube-master-url", api])
        defer { kube2sky.stop() }
        #expect(eventually { kube2sky.readiness == 200 }, "\(kube2sky.log)")

        let skydns = try ServerProcess(
            Self.args(containers["skydns"]).filter { !$0.hasPrefix("-addr=") }.map(toTestEtcd),
            listen: ["--addr", "127.0.0.1:0"])
        defer { skydns.stop() }
        Lookup.expectEventually("kubernetes.default.svc", port: skydns.port, Lookup.ok("a 10.0.0.1"))

        // The probe command, against this skydns: true now, false for a name that is not there.
        let healthz = Self.args(containers["healthz"])
        let command = try #require(healthz.first { $0.hasPrefix("-cmd=") }).dropFirst("-cmd=".count)
            .replacingOccurrences(of: "-p 53 ", with: "-p \(skydns.port) ")
        #expect(try runToEnd("/bin/sh", ["-c", command]).status == 0)
        let missing = command.replacingOccurrences(of: "kubernetes.default.svc", with: "nosuch.default.svc")
        #expect(try runToEnd("/bin/sh", ["-c", missing]).status != 0)

        // exechealthz takes the manifest's flags and serves /healthz.
        let port = try freePort()
        let process = try ServerProcess.start(
            healthz.map { $0.hasPrefix("-port=") ? "-port=\(port)" : $0.hasPrefix("-cmd=") ? "-cmd=\(command)" : $0 })
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        #expect(eventually { (try? httpStatus("http://127.0.0.1:\(port)/healthz")) == 200 })
    }
}
