import Logging

/// What node-cache keeps on the node besides the server: the dummy
/// interface with the local addresses, and the iptables rules that take
/// its traffic out of connection tracking. `ensure()` puts back whatever
/// is missing (at start and every sync interval, as node-cache's periodic
/// check does); `teardown()` removes both at exit.
public struct NodeNetworking: Sendable {
    public var interface: DummyInterface?
    public var rules: [IPTablesRule]
    public let iptables: IPTables
    let logger: Logger
    /// Counts a setup error by kind (`interface_add`, `interface_check`,
    /// `iptables`, `iptables_lock`), as node-cache's metric does.
    let countError: @Sendable (String) -> Void

    public init(
        interface: DummyInterface?, rules: [IPTablesRule], ipv6: Bool, logger: Logger, countError: @escaping @Sendable (String) -> Void
    ) {
        self.interface = interface
        self.rules = rules
        self.iptables = IPTables(ipv6: ipv6)
        self.logger = logger
        self.countError = countError
    }

    public func ensureInterface() {
        guard let interface else { return }
        do {
            if try !interface.ensure() { logger.notice("added interface", metadata: ["interface": "\(interface.name)"]) }
        } catch {
            logger.error("interface setup failed", metadata: ["error": "\(error)"])
            countError(interface.index == nil ? "interface_add" : "interface_check")
        }
    }

    public func ensureRules() {
        for rule in rules {
            do {
                if try !iptables.ensure(rule) { logger.notice("added iptables rule", metadata: ["rule": "\(rule)"]) }
            } catch {
                logger.error("iptables rule check failed", metadata: ["error": "\(error)"])
                countError(error.locked ? "iptables_lock" : "iptables")
            }
        }
    }

    public func ensure() {
        ensureRules()
        ensureInterface()
    }

    public func teardown() {
        logger.notice("tearing down the interface and rules")
        for rule in rules {
            do { try iptables.delete(rule) } catch {
                logger.error("iptables rule not deleted", metadata: ["error": "\(error)"])
                countError(error.locked ? "iptables_lock" : "iptables")
            }
        }
        guard let interface else { return }
        do { try interface.remove() } catch { logger.error("interface not deleted", metadata: ["error": "\(error)"]) }
    }
}
