import ArgumentParser
import DataPlane
import Etcd
import Foundation
import Logging
import RecordModel
import RecordPublisher
import ServerMetrics
import SkyDNSSource
import Upstreams

/// `kube-dns skydns`: the skydns of the Kubernetes 1.2 pod. Serves the keys
/// under the domain in etcd with skydns's semantics, follows them with a
/// watch, and forwards the rest as the default command does.
struct SkyDNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skydns",
        abstract: "Serve DNS from the skydns keys in etcd (the skydns of the Kubernetes 1.2 pod).")

    @Option(help: "etcd client URLs, comma-separated (default: $ETCD_MACHINES, else http://127.0.0.1:2379).")
    var machines: String?

    @Option(help: "Address and port to serve DNS on: IP:PORT, [IPv6]:PORT.")
    var addr = "127.0.0.1:53"

    @Option(help: "The domain served from etcd (its keys are under /skydns/<labels reversed>).")
    var domain = "cluster.local."

    @Option(help: "TTL of records whose value gives none, in seconds (skydns's default).")
    var ttl: UInt32 = 3600

    @Option(
        name: .customLong("ns-rotate"),
        help: "Accepted as the Kubernetes 1.2 manifest gives it (false); upstreams are always tried in order.")
    var nsRotate: Bool?

    @Option(
        name: [.customLong("healthz-port"), .customLong("healthz_port")],
        help: "Port of GET /readiness (200 once etcd has been read) and /healthz; kube2sky has 8081 in the same pod.")
    var healthzPort = 8082

    @OptionGroup var forwarding: ForwardFlags
    @OptionGroup var serverFlags: ServerFlags

    func validate() throws {
        _ = try etcdEndpoints()
        _ = try listenAddress()
        do { _ = try DNSName(domain) } catch { throw ValidationError("--domain \(domain): \(error)") }
        try FlagRange.check("healthz-port", healthzPort, FlagRange.port)
        guard ttl <= 604_800 else { throw ValidationError("--ttl \(ttl): at most 604800 (one week)") }
    }

    func etcdEndpoints() throws -> [String] {
        let text = machines ?? ProcessInfo.processInfo.environment["ETCD_MACHINES"] ?? "http://127.0.0.1:2379"
        let endpoints = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        do { return try EtcdClient.checked(endpoints) } catch { throw ValidationError("--machines \(text): \(error)") }
    }

    func listenAddress() throws -> Forwarding.Upstream {
        do { return try UpstreamAddress.parse(addr, anyPort: true) } catch { throw ValidationError("--addr \(addr): \(error)") }
    }

    func serve() async throws {
        Verbosity.bootstrap(serverFlags.verbosity)
        let logger = Logger(label: "kube-dns skydns")
        let zone = try DNSName(domain)
        let listen = try listenAddress()
        let etcd = try EtcdClient(endpoints: try etcdEndpoints())
        let metrics = MetricsRegistry(version: BuildInfo.version)
        let options = RecordOptions(domain: zone, ttl: ttl, pods: .disabled, serial: 0)
        let dns = serverFlags.dnsConfiguration(address: listen.host, port: listen.port, forwarding: forwarding)
        let frontEnd = try await DNSFrontEnd.start(
            dns: dns, endpoints: DNSFrontEnd.Endpoint.kubeDNS(serverFlags, healthzPort: healthzPort),
            unsynced: ClusterRecords.unsyncedZones(options: options), notReadyReason: "etcd has not been read yet",
            upstreams: try forwarding.follower(clusterDomain: zone, logger: logger),
            portFile: serverFlags.portFile, metrics: metrics, logger: logger)
        let (server, readiness) = (frontEnd.server, frontEnd.readiness)
        let follower = SkyDNSFollower(etcd: etcd, domain: zone, ttl: ttl, logger: logger)
        let publisher = Publisher<SkyDNSState>(server: server, readiness: readiness, metrics: metrics, logger: logger)
        let queue = BatchQueue<SkyDNSBatch>()
        try await frontEnd.run(
            [
                ("etcd", { await follower.run(into: queue) }),
                ("records", { await publisher.run(SkyDNSState(domain: zone, ttl: ttl), from: queue) }),
            ],
            lameduck: serverFlags.lameduck.duration, logger: logger)
        await etcd.shutdown()
    }
}
