import CorefilePlan
import DataPlane
import Foundation
import Logging
import ServerMetrics
import Synchronization

/// The `hosts` plugin's names, served as the data plane's hosts table:
/// read at start, and read again when the file changes (checked every
/// `reload`) or the plugin's settings do (a Corefile reload). A file that
/// cannot be read serves the inline lines alone and says so, as CoreDNS does.
public final class HostsFollower: Sendable {
    private struct State {
        var plan: HostsPlan?
        /// The file as last read: its modification time and size.
        var seen: (modified: Date?, size: Int?)?
        var served: HostsPlan?
    }

    private let state: Mutex<State>
    private let metrics: MetricsRegistry
    private let logger: Logger

    public init(plan: HostsPlan?, metrics: MetricsRegistry, logger: Logger) {
        state = Mutex(State(plan: plan))
        self.metrics = metrics
        self.logger = logger
    }

    /// The plugin's settings from now on (a reloaded Corefile).
    public func update(_ plan: HostsPlan?, _ server: DNSServer) {
        state.withLock { $0.plan = plan }
        refresh(server)
    }

    /// Reads the file again every second it is due, until cancelled.
    public func run(_ server: DNSServer) async {
        var last = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            guard let reload = state.withLock({ $0.plan?.reload }), reload > .zero, ContinuousClock.now - last >= reload else { continue }
            last = ContinuousClock.now
            refresh(server)
        }
    }

    /// Publishes the hosts table when the file or the settings changed.
    public func refresh(_ server: DNSServer) {
        let plan = state.withLock { $0.plan }
        guard let plan else {
            let served = state.withLock { state in
                defer { state.served = nil }
                return state.served != nil
            }
            if served { server.publishHosts(nil) }
            return
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: plan.file)
        let modified = attributes?[.modificationDate] as? Date
        let size = (attributes?[.size] as? NSNumber)?.intValue
        let unchanged = state.withLock { state in
            state.served == plan && state.seen.map { $0.modified == modified && $0.size == size } == true
        }
        guard !unchanged else { return }
        let text = FileManager.default.contents(atPath: plan.file).map { String(decoding: $0, as: UTF8.self) }
        if text == nil { logger.warning("hosts file cannot be read; serving its inline lines", metadata: ["file": "\(plan.file)"]) }
        let records = plan.records(fileText: text)
        do {
            server.publishHosts(try AnswerTable(records))
        } catch {
            logger.error("hosts not published; serving the last ones", metadata: ["file": "\(plan.file)", "error": "\(error)"])
            return
        }
        state.withLock { state in
            state.seen = (modified, size)
            state.served = plan
        }
        metrics.hostsPublished(entries: records.nameCount, at: Date().timeIntervalSince1970)
        logger.info("hosts published", metadata: ["file": "\(plan.file)", "names": "\(records.nameCount)"])
    }
}
