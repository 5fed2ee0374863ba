import ArgumentParser
import Corefile
import CorefilePlan
import CorefileReload
import DataPlane
import Foundation
import KubeAPI
import Upstreams

/// CoreDNS's start flags, as the CoreDNS Deployment passes them
/// (`-conf /etc/coredns/Corefile`): with `-conf`, the Corefile decides
/// what is served instead of the kube-dns flags.
struct CorefileFlags: ParsableArguments {
    @Option(name: .customLong("conf"), help: "A CoreDNS Corefile: serve what it configures (CoreDNS's -conf).")
    var conf: String?

    @Option(
        name: .customLong("dns.port"),
        help: "With --conf: the port of server blocks that name none (CoreDNS's -dns.port; 0: the kernel's choice).")
    var dnsPort = 53

    @Flag(name: .customLong("quiet"), help: "With --conf: do not log the start banner (CoreDNS's -quiet).")
    var quiet = false

    @Option(name: .customLong("pidfile"), help: "Write the process ID to this file (CoreDNS's -pidfile).")
    var pidfile: String?

    func validate() throws {
        try FlagRange.check("dns.port", dnsPort, FlagRange.port)
    }

    func writePID() throws {
        guard let pidfile else { return }
        do {
            try "\(getpid())\n".write(toFile: pidfile, atomically: true, encoding: .utf8)
        } catch {
            throw ValidationError("--pidfile \(pidfile): cannot be written")
        }
    }
}

extension CorefilePlan {
    /// The HTTP endpoints the plugins ask for; plugins on one address share it.
    var endpoints: [DNSFrontEnd.Endpoint] {
        get throws {
            var endpoints: [DNSFrontEnd.Endpoint] = []
            func add(_ name: String, _ address: String, _ path: String, _ page: DNSFrontEnd.Endpoint.Page) throws {
                let (host, port) = try Self.hostAndPort(address, plugin: name)
                if let index = endpoints.firstIndex(where: { $0.host == host && $0.port == port && port != 0 }) {
                    endpoints[index].pages[path] = page
                    endpoints[index].name += "," + name
                } else {
                    endpoints.append(.init(name: name, host: host, port: port, pages: [path: page]))
                }
            }
            if let health { try add("health", health.address, "/health", .liveness(body: "OK")) }
            if let readyAddress { try add("ready", readyAddress, "/ready", .readiness(body: "OK")) }
            if let metricsAddress { try add("metrics", metricsAddress, "/metrics", .metrics) }
            return endpoints
        }
    }

    /// `[HOST]:PORT` as CoreDNS's plugins take it: no host listens on every address.
    static func hostAndPort(_ address: String, plugin: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw ValidationError("plugin/\(plugin): \(address): not [HOST]:PORT") }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

extension ClusterPlan {
    /// How the `kubernetes` plugin reaches the API: `kubeconfig`,
    /// `endpoint` (with `tls`'s files), else in-cluster.
    func access() throws -> ClusterAccess {
        if let kubeconfig = plugin.kubeconfig {
            return try .kubeconfig(path: kubeconfig.file, server: plugin.endpoint, context: kubeconfig.context)
        }
        guard let endpoint = plugin.endpoint else { return try .inCluster() }
        var access = try ClusterAccess.masterURL(endpoint)
        if let tls = plugin.tls {
            func read(_ path: String) throws -> Data {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("plugin/kubernetes: tls \(path): cannot be read")
                }
                return data
            }
            access.clientCertificate = try read(tls.cert)
            access.clientKey = try read(tls.key)
            access.certificateAuthority = try read(tls.caCert)
        }
        return access
    }
}
