import ArgumentParser
import Etcd
import Foundation
import Health
import Kube2Sky
import KubeAPI
import Logging
import ObjectSources
import RecordModel

/// `kube-dns kube2sky`: the kube2sky of the Kubernetes 1.2 pod. Watches the
/// API and keeps the skydns layout in etcd equal to the cluster.
struct Kube2SkyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube2sky",
        abstract: "Write the cluster's records into etcd in the skydns layout (the kube2sky of the Kubernetes 1.2 pod).")

    @Option(
        name: [.customLong("etcd-server"), .customLong("etcd_server")],
        help: "etcd client URLs, comma-separated; each write goes to the first that answers.")
    var etcdServer = "http://127.0.0.1:4001"

    @Option(help: "The cluster domain.")
    var domain = "cluster.local."

    @Option(
        name: [.customLong("etcd-mutation-timeout"), .customLong("etcd_mutation_timeout")],
        help: "How long one etcd request may take before it counts as failed (then: retry with backoff, never exit).")
    var etcdMutationTimeout = GoDuration(.seconds(10), "10s")

    @Option(
        name: [.customLong("healthz-port"), .customLong("healthz_port")],
        help: "Port of GET /readiness: 200 once etcd holds the cluster, 503 before and while etcd cannot be written.")
    var healthzPort = 8081

    @OptionGroup var api: APIFlags

    @Option(name: [.customShort("v"), .customLong("v")], help: "Log verbosity: 0 notices and errors, 2 routine events, 4 debugging.")
    var verbosity = 0

    @Option(
        name: .customLong("port-file"), help: "Write the port bound (healthz=PORT) to this file once it is bound.")
    var portFile: String?

    func validate() throws {
        _ = try etcdEndpoints()
        do { _ = try DNSName(domain) } catch { throw ValidationError("--domain \(domain): \(error)") }
        try FlagRange.check("healthz-port", healthzPort, FlagRange.port)
        try FlagRange.check("etcd-mutation-timeout", etcdMutationTimeout, .milliseconds(100) ... .seconds(3600))
        try FlagRange.check("v", verbosity, 0...10)
    }

    private func etcdEndpoints() throws -> [String] {
        let endpoints = etcdServer.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        do { return try EtcdClient.checked(endpoints) } catch { throw ValidationError("--etcd-server \(etcdServer): \(error)") }
    }

    func serve() async throws {
        Verbosity.bootstrap(verbosity)
        let logger = Logger(label: "kube-dns kube2sky")
        let etcd = try EtcdClient(endpoints: try etcdEndpoints(), timeout: etcdMutationTimeout.duration)
        let client: APIClient
        do {
            client = try APIClient(access: try api.access(), userAgent: "kube-dns/\(BuildInfo.version) (linux) swift")
        } catch {
            throw ValidationError("\(error)")
        }
        // kube2sky 1.12 and later wrote every pod's address.
        let source = APISource(client: client, watchPods: true, settings: api.informerSettings, logger: logger)
        let readiness = Readiness(notReadyBecause: "the cluster is not in etcd yet")
        let probe = try await ProbeServer(
            host: "0.0.0.0", port: healthzPort,
            routes: [
                "/readiness": { readiness.notReadyReason.map(ProbeAnswer.failing) ?? .ok() },
                "/healthz": { .ok() },
            ])
        try PortFile.write([("healthz", probe.port)], to: portFile)
        logger.notice(
            "writing the cluster into etcd",
            metadata: [
                "etcd": "\(etcdServer)", "domain": "\(domain)", "healthz port": "\(probe.port)",
            ])
        let writer = Kube2SkyWriter(
            etcd: etcd, domain: try DNSName(domain), readiness: readiness, resources: source.resources, logger: logger)
        let queue = UpdateQueue()
        try await Lifecycle.run(
            [("informers", { await source.run(into: queue) }), ("etcd", { await writer.run(queue) })],
            lameDuck: LameDuck(readiness: readiness, period: .zero, logger: logger), logger: logger)
        await probe.close()
        await client.shutdown()
        await etcd.shutdown()
    }
}
