import Corefile
import CorefilePlan
import DataPlane
import Foundation
import HostsSource
import Logging
import ServerMetrics
import Synchronization
import Upstreams

/// Keeps the data plane in step with a Corefile: its routes and hosts
/// applied at start, and the file read again on request (SIGHUP or SIGUSR1) and,
/// with the `reload` plugin, every interval. A changed `kubernetes`
/// plugin is handed on (`clusterChanges`). A Corefile that no longer
/// loads keeps the running configuration and says why; what changed that
/// only a restart applies (the port, the cache's size, the HTTP
/// endpoints) is said too.
public final class CorefileFollower: Sendable {
    public let path: String
    private let environment: [String: String]
    private let defaultPort: Int
    private let timeout: Duration
    /// The server's own addresses, known once it is bound.
    private let ourselves = Mutex(SelfAddress(bindAddress: "0.0.0.0", port: 0))
    private let logger: Logger
    private let metrics: MetricsRegistry
    private let current: Mutex<CorefilePlan>
    private let hosts: HostsFollower
    /// Each reload's `kubernetes` plugin when it changed (nil: none now),
    /// for the records to be read again with it.
    public let clusterChanges: AsyncStream<ClusterPlan?>
    private let clusterChanged: AsyncStream<ClusterPlan?>.Continuation

    public init(
        path: String, plan: CorefilePlan, environment: [String: String], defaultPort: Int, timeout: Duration,
        metrics: MetricsRegistry, logger: Logger
    ) {
        self.path = path
        self.environment = environment
        self.defaultPort = defaultPort
        self.timeout = timeout
        self.logger = logger
        self.metrics = metrics
        current = Mutex(plan)
        hosts = HostsFollower(plan: plan.hosts, metrics: metrics, logger: logger)
        (clusterChanges, clusterChanged) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The plan of the Corefile at `path`, or why it cannot be served, in one line.
    public static func load(path: String, environment: [String: String], defaultPort: Int) throws -> CorefilePlan {
        guard let data = FileManager.default.contents(atPath: path) else { throw CorefileReadError(path: path) }
        let corefile = try Corefile(
            path: path, text: String(decoding: data, as: UTF8.self), environment: environment, defaultPort: defaultPort)
        return try CorefilePlan(try corefile.configurations())
    }

    private var plan: CorefilePlan { current.withLock { $0 } }

    /// Configures `server`'s forwarding from the plan in force, refusing
    /// upstreams that are `ourselves`.
    public func start(_ server: DNSServer, ourselves: SelfAddress) {
        self.ourselves.withLock { $0 = ourselves }
        apply(plan, to: server)
        hosts.refresh(server)
        server.logQueries(plan.logQueries, errors: !plan.errorLog.isEmpty)
        taken(plan, previous: nil, server)
        for note in plan.notes { logger.notice("Corefile: done differently here", metadata: ["what": "\(note)"]) }
    }

    /// The hosts file followed, the query log written, and the Corefile
    /// read again on each request and every `reload` interval, until cancelled.
    public func run(_ server: DNSServer, requests: AsyncStream<Void>) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                for await _ in requests { reload(server, because: "SIGHUP or SIGUSR1") }
            }
            group.addTask { [hosts] in await hosts.run(server) }
            group.addTask { [self] in await writeQueryLog(server) }
            group.addTask { [self] in
                while !Task.isCancelled, let reload = plan.reload {
                    let jitter = Double.random(in: -1...1) * reload.jitter.seconds
                    try? await Task.sleep(for: reload.interval + .seconds(jitter))
                    self.reload(server, because: "reload interval")
                }
            }
            await group.waitForAll()
        }
    }

    /// Reads the Corefile again and applies what changed.
    public func reload(_ server: DNSServer, because trigger: String) {
        let next: CorefilePlan
        do {
            next = try Self.load(path: path, environment: environment, defaultPort: defaultPort)
        } catch {
            metrics.corefileReloadFailed()
            logger.error(
                "Corefile not reloaded; the running configuration stays", metadata: ["error": "\(error)", "trigger": "\(trigger)"])
            return
        }
        let before = current.withLock { plan in
            defer { plan = next }
            return plan
        }
        guard next != before else { return }
        if next.routes != before.routes || next.blocks != before.blocks { apply(next, to: server) }
        if next.hosts != before.hosts { hosts.update(next.hosts, server) }
        if next.logQueries != before.logQueries || next.errorLog.isEmpty != before.errorLog.isEmpty {
            server.logQueries(next.logQueries, errors: !next.errorLog.isEmpty)
        }
        if next.cluster != before.cluster { clusterChanged.yield(next.cluster) }
        taken(next, previous: before, server)
        let unapplied = Self.restartOnly(before, next)
        if !unapplied.isEmpty {
            logger.warning(
                "Corefile changes that apply at the next start", metadata: ["what": "\(unapplied.joined(separator: ", "))"])
        }
        logger.notice("Corefile reloaded", metadata: ["path": "\(path)", "trigger": "\(trigger)"])
    }

    private func taken(_ plan: CorefilePlan, previous: CorefilePlan?, _ server: DNSServer) {
        func pairs(_ plan: CorefilePlan) -> [(zone: String, name: String)] { plan.enabledPlugins.map { ($0.zone, $0.name) } }
        metrics.corefileTaken(
            server: "dns://:\(server.port)", plugins: pairs(plan), digest: plan.digest,
            previous: previous.map { (pairs($0), $0.digest) })
    }

    /// The query log's lines, written to standard output as CoreDNS writes
    /// them, a batch at a time (the workers only fill their rings), by
    /// the log rules in force.
    func writeQueryLog(_ server: DNSServer) async {
        var errorBlocks = plan.errorLog
        var errors = ErrorLogLines(blocks: errorBlocks)
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            var entries = server.takeQueryLog()
            let current = plan
            let lines = QueryLogLines(blocks: current.queryLog)
            // A reloaded errors plugin starts its windows anew.
            if current.errorLog != errorBlocks {
                errorBlocks = current.errorLog
                errors = ErrorLogLines(blocks: errorBlocks)
            }
            let now = ContinuousClock.now
            let summaries = errors.summaries(now: now).map { $0 + "\n" }.joined()
            if !summaries.isEmpty { FileHandle.standardOutput.write(Data(summaries.utf8)) }
            while !entries.isEmpty {
                let text = entries.map { entry in
                    (lines.line(entry).map { "[INFO] \($0)\n" } ?? "") + errors.lines(entry, now: now).map { $0 + "\n" }.joined()
                }.joined()
                FileHandle.standardOutput.write(Data(text.utf8))
                entries = entries.count == 4096 ? server.takeQueryLog() : []
            }
        }
    }

    /// What differs between two plans that a running server keeps until it restarts.
    static func restartOnly(_ a: CorefilePlan, _ b: CorefilePlan) -> [String] {
        var changed: [String] = []
        if a.port != b.port || a.addresses != b.addresses { changed.append("the DNS port or addresses") }
        if a.cache != b.cache { changed.append("the cache's size and TTLs") }
        if a.maxConcurrentForwards != b.maxConcurrentForwards { changed.append("forward max_concurrent") }
        if a.health != b.health || a.readyAddress != b.readyAddress || a.metricsAddress != b.metricsAddress {
            changed.append("the health, ready and prometheus addresses")
        }
        return changed
    }

    /// The plan's routes and blocks' rules, as the data plane's forwarding.
    private func apply(_ plan: CorefilePlan, to server: DNSServer) {
        let (forwarding, ignored) = ForwardingPlan.make(
            routes: plan.routes, blocks: plan.blocks, timeout: timeout, ourselves: ourselves.withLock { $0 })
        for reason in ignored { logger.error("upstream refused", metadata: ["reason": "\(reason)"]) }
        do {
            try server.forward(forwarding)
        } catch {
            logger.error("forwarding not configured; keeping the previous configuration", metadata: ["error": "\(error)"])
            return
        }
        logger.info("forwarding", metadata: ["routes": "\(forwarding?.summary ?? "none: names of no server block get REFUSED")"])
    }
}

/// A Corefile that cannot be read at all.
public struct CorefileReadError: Error, CustomStringConvertible {
    public let path: String
    public var description: String { "\(path): cannot be read" }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
