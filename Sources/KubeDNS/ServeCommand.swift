import ArgumentParser
import DataPlane
import Foundation
import Logging
import ObjectSources
import RecordModel

/// `kube-dns` (the default command): watch the objects, keep the record
/// model, answer DNS.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve cluster DNS (the default command).")

    @OptionGroup var records: RecordFlags

    @Option(name: [.customLong("dns-bind-address"), .customLong("dns_bind_address")], help: "Address to serve DNS on (IPv4 or IPv6).")
    var dnsBindAddress = "0.0.0.0"

    @Option(name: [.customLong("dns-port"), .customLong("dns_port")], help: "Port to serve DNS on, UDP and TCP.")
    var dnsPort: UInt16 = 53

    @Option(name: .customLong("threads"), help: "DNS worker threads (default: the number of cores).")
    var threads: Int?

    @Option(name: .customLong("tcp-max-connections"), help: "Open DNS-over-TCP connections at most, over all workers.")
    var tcpMaxConnections = 1024

    @Option(name: .customLong("tcp-idle-timeout"), help: "Seconds before an idle DNS-over-TCP connection is closed (RFC 7766).")
    var tcpIdleTimeout = 10

    @Option(name: [.customShort("v"), .customLong("v")], help: "Log verbosity: 0 notices and errors, 2 routine events, 4 debugging.")
    var verbosity = 0

    func validate() throws {
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads \(threads): from 1 to 1024") }
        guard tcpMaxConnections >= 1 else { throw ValidationError("--tcp-max-connections: at least 1") }
        guard tcpIdleTimeout >= 1 else { throw ValidationError("--tcp-idle-timeout: at least 1 second") }
        guard records.kubeObjects != nil else {
            throw ValidationError("no source of objects: give --kube-objects FILE (watching the Kubernetes API is not built yet)")
        }
    }

    func run() async throws { try await serve() }

    func serve() async throws {
        Verbosity.bootstrap(verbosity)
        let logger = Logger(label: "kube-dns")
        var publisher = Publisher(options: try records.options(serial: 0), logger: logger)
        // A file that cannot be loaded at start is a startup error.
        let watcher = ObjectsFileWatcher(path: records.kubeObjects!, logger: logger)
        let (initial, identity) = try watcher.load()

        // Bind at once, answering SERVFAIL for cluster names until loaded.
        let server = try DNSServer(
            DNSServer.Configuration(
                address: dnsBindAddress, port: dnsPort,
                threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
                tcpMaxConnections: tcpMaxConnections, tcpIdleTimeoutMilliseconds: tcpIdleTimeout * 1000),
            initial: try AnswerTable(ClusterRecords.unsyncedZones(options: publisher.options)))
        defer { server.stop() }
        try server.start()
        logger.notice("serving DNS", metadata: ["address": "\(dnsBindAddress)", "port": "\(server.port)", "domain": "\(records.domain)"])

        // Consumed: the objects are not kept beyond the table made of them.
        try publisher.publish(consume initial, to: server)

        await withTaskGroup(of: Void.self) { group in
            group.addTask { [publisher] in
                var publisher = publisher
                for await objects in watcher.changes(since: identity) {
                    do {
                        try publisher.publish(objects, to: server)
                    } catch {
                        logger.error("records not published; serving the last ones", metadata: ["error": "\(error)"])
                    }
                }
            }
            for await signal in Signals.termination() {
                logger.notice("stopping", metadata: ["signal": "\(signal)"])
                break
            }
            group.cancelAll()
        }
    }
}

/// Turns objects into a published answer table, with a fresh SOA serial.
struct Publisher: Sendable {
    private(set) var options: RecordOptions
    let logger: Logger

    init(options: RecordOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    mutating func publish(_ objects: ClusterObjects, to server: DNSServer) throws {
        // RFC 1982 serials: the clock, and always moving forward.
        options.serial = max(UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970)), options.serial &+ 1)
        let clock = ContinuousClock()
        let start = clock.now
        let zones = ClusterRecords.zones(for: objects, options: options)
        for problem in zones.problems { logger.warning("object skipped", metadata: ["reason": "\(problem)"]) }
        let modelled = clock.now
        let table = try AnswerTable(zones)
        let built = clock.now
        let names = table.nameCount
        let answers = table.answerCount
        server.publish(table)
        logger.info("records published", metadata: [
            "services": "\(objects.services.count)", "names": "\(names)", "answers": "\(answers)",
            "serial": "\(options.serial)", "model": "\(modelled - start)", "table": "\(built - modelled)",
            "swap": "\(clock.now - built)",
        ])
    }
}
