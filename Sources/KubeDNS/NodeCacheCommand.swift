import ArgumentParser
import CorefilePlan
import Foundation
import Logging
import NodeCache
import ServerMetrics
import Upstreams

/// `kube-dns node-cache`: a drop-in for NodeLocal DNSCache's
/// k8s-dns-node-cache, flag for flag. On every node: the local addresses
/// on a dummy interface, the iptables rules that take their traffic out
/// of connection tracking (put back every sync interval), and the
/// NodeLocal Corefile made from its template and served; the interface
/// and rules removed at exit unless told to keep them.
struct NodeCacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node-cache",
        abstract: "Serve a node's DNS cache on local addresses, as NodeLocal DNSCache's node-cache.")

    @Option(help: "The addresses to answer on, comma-separated (169.254.20.10, and the cluster DNS Service's IP).")
    var localip: String

    @Option(help: "Make the dummy interface and give it the local addresses.")
    var setupinterface = true

    @Option(help: "The dummy interface's name.")
    var interfacename = "nodelocaldns"

    @Option(help: "How often the rules and the interface are checked and put back (seconds, or 60s).")
    var syncinterval = GoDuration(.seconds(60), "60")

    @Option(help: "Keep the iptables rules that skip connection tracking for the local addresses.")
    var setupiptables = true

    @Option(help: "Leave the interface and the rules in place at exit.")
    var skipteardown = false

    @Option(help: "The Corefile template (the node-local-dns ConfigMap's Corefile.base).")
    var basecorefile = "/etc/coredns/Corefile.base"

    @Option(help: "The Corefile written from the template and served (same as --conf).")
    var corefile = "/etc/Corefile"

    @Option(name: .customLong("conf"), help: "The Corefile written and served (CoreDNS's -conf; wins over --corefile).")
    var conf: String?

    @Option(help: "The kube-dns ConfigMap's directory (stubDomains, upstreamNameservers; /etc/kube-dns when it exists).")
    var kubednscm: String?

    @Option(help: "The Service whose cluster IP the cluster's zones are forwarded to (its <NAME>_SERVICE_HOST variable).")
    var upstreamsvc = "kube-dns"

    @Option(name: .customLong("health-port"), help: "The health plugin's port, whose probe traffic also skips connection tracking.")
    var healthPort = 8080

    @Option(name: .customLong("metrics-listen-address"), help: "Where node-cache's own metrics are served (GET /metrics).")
    var metricsListenAddress = "0.0.0.0:9353"

    @Option(help: "Accepted as node-cache takes it; a rewritten Corefile is always reloaded at once.")
    var reloadwithsignal = false

    @Option(name: .customLong("dns.port"), help: "The port of the local addresses (CoreDNS's -dns.port).")
    var dnsPort = 53

    @Option(name: .customLong("pidfile"), help: "Write the process ID to this file (CoreDNS's -pidfile).")
    var pidfile: String?

    @OptionGroup var serverFlags: ServerFlags

    /// How often the template and the kube-dns ConfigMap are read again, as node-cache does.
    static let configPeriod = Duration.seconds(10)

    func validate() throws {
        _ = try localAddresses()
        try FlagRange.check("dns.port", dnsPort, FlagRange.port)
        try FlagRange.check("health-port", healthPort, FlagRange.port)
        try FlagRange.check("syncinterval", syncinterval, .seconds(1) ... .seconds(86400))
        _ = try CorefilePlan.hostAndPort(metricsListenAddress, plugin: "node-cache --metrics-listen-address")
    }

    /// The local addresses, all of one family (node-cache's rule).
    func localAddresses() throws -> [IPAddress] {
        let addresses = try localip.split(separator: ",", omittingEmptySubsequences: false).map { text in
            guard let address = IPAddress(String(text).trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--localip \(String(text).excerpt()): not an IP address")
            }
            return address
        }
        if let first = addresses.first, addresses.contains(where: { $0.isIPv6 != first.isIPv6 }) {
            throw ValidationError("--localip \(localip.excerpt()): the addresses must all be IPv4 or all IPv6")
        }
        return addresses
    }

    func run() async throws { try await serve() }

    func serve() async throws {
        Verbosity.bootstrap(serverFlags.verbosity)
        let logger = Logger(label: "node-cache")
        let addresses = try localAddresses()
        let served = conf ?? corefile
        let metrics = MetricsRegistry(version: BuildInfo.version)
        metrics.prepareNodeCacheSetupErrors()
        let writer = try corefileWriter(addresses: addresses, path: served, countError: metrics.nodeCacheSetupError, logger: logger)
        _ = try writer.write()

        let networking = NodeNetworking(
            interface: setupinterface ? DummyInterface(name: interfacename, addresses: addresses) : nil,
            rules: setupiptables
                ? NodeCacheRules.rules(localAddresses: addresses.map(\.description), dnsPort: dnsPort, healthPort: healthPort) : [],
            ipv6: addresses.first?.isIPv6 ?? false, logger: logger, countError: metrics.nodeCacheSetupError)
        // The addresses first, for the server to bind them; the rules once it answers.
        networking.ensureInterface()

        let (host, port) = try CorefilePlan.hostAndPort(metricsListenAddress, plugin: "node-cache --metrics-listen-address")
        var arguments = ["--conf", served, "--dns.port", "\(dnsPort)"]
        if let pidfile { arguments += ["--pidfile", pidfile] }
        var server = try ServeCommand.parse(arguments)
        server.serverFlags = serverFlags
        let interval = syncinterval.duration
        var additions = ServeCommand.Additions(metrics: metrics)
        additions.endpoints = [.init(name: "node-cache metrics", host: host, port: port, pages: ["/metrics": .metrics])]
        additions.tasks = [
            (
                "node setup",
                {
                    while !Task.isCancelled {
                        networking.ensure()
                        try? await Task.sleep(for: interval)
                    }
                }
            ),
            (
                "node-cache config",
                {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.configPeriod)
                        if (try? writer.write()) == true { kill(getpid(), SIGUSR1) }
                    }
                }
            ),
        ]
        defer { if !skipteardown { networking.teardown() } }
        try await server.serve(additions)
    }

    private func corefileWriter(
        addresses: [IPAddress], path: String, countError: @escaping @Sendable (String) -> Void, logger: Logger
    ) throws -> NodeCacheCorefileWriter {
        var directory = kubednscm
        if directory == nil, FileManager.default.fileExists(atPath: NodeCacheCorefileWriter.defaultKubeDNSDirectory) {
            directory = NodeCacheCorefileWriter.defaultKubeDNSDirectory
        }
        let variable = NodeCacheCorefile.serviceHostVariable(upstreamsvc)
        return NodeCacheCorefileWriter(
            template: basecorefile, output: path, kubeDNSDirectory: directory, localAddresses: addresses.map(\.description),
            port: dnsPort, clusterDNS: ProcessInfo.processInfo.environment[variable], clusterDNSVariable: variable,
            countError: countError, logger: logger)
    }
}

/// Writes the served Corefile from the template and the kube-dns
/// ConfigMap, when what it would write differs from what is there.
struct NodeCacheCorefileWriter: Sendable {
    static let defaultKubeDNSDirectory = "/etc/kube-dns"
    let template: String
    let output: String
    let kubeDNSDirectory: String?
    let localAddresses: [String]
    let port: Int
    let clusterDNS: String?
    let clusterDNSVariable: String
    /// Counts a bad kube-dns ConfigMap (`configmap`), as node-cache does.
    let countError: @Sendable (String) -> Void
    let logger: Logger

    /// Whether it wrote. At start a missing template or upstream Service
    /// is an error; later, a bad template or ConfigMap is logged and the
    /// Corefile served stays.
    func write() throws -> Bool {
        guard let data = FileManager.default.contents(atPath: template) else {
            throw ValidationError("--basecorefile \(template): cannot be read")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let clusterDNS = clusterDNS ?? (NodeCacheCorefile.needsClusterDNS(text) ? nil : "") else {
            throw ValidationError(
                "--upstreamsvc: \(clusterDNSVariable) is not set; the template forwards to \(NodeCacheCorefile.clusterDNS)")
        }
        var kubeDNS = ConfigDirectory()
        if let kubeDNSDirectory {
            do {
                kubeDNS = try ConfigDirectory.read(kubeDNSDirectory)
                // node-cache's forward takes addresses only (ValidateNodeLocalCacheConfig).
                if let name = kubeDNS.stubServerNames.first {
                    throw UpstreamError("stubDomains: \(name) is a host name; node-cache forwards to addresses only")
                }
            } catch {
                logger.error("kube-dns ConfigMap not used", metadata: ["directory": "\(kubeDNSDirectory)", "error": "\(error)"])
                countError("configmap")
                kubeDNS = ConfigDirectory()
            }
        }
        let rendered = NodeCacheCorefile.render(
            template: text, localAddresses: localAddresses, port: port, clusterDNS: clusterDNS, kubeDNS: kubeDNS)
        if let current = FileManager.default.contents(atPath: output), String(decoding: current, as: UTF8.self) == rendered {
            return false
        }
        do {
            try rendered.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            throw ValidationError("--conf \(output): cannot be written")
        }
        logger.notice(
            "Corefile written", metadata: ["path": "\(output)", "stub domains": "\(kubeDNS.stubDomains.count)"])
        return true
    }
}
