#if canImport(Glibc)
    import Glibc
#endif

/// The interface node-cache answers on (`nodelocaldns`): a dummy interface
/// holding the local addresses, so the node's kernel delivers queries to
/// them locally. Kept as node-cache keeps it (kubernetes/dns pkg/netif):
/// made when missing, its addresses added again when missing, deleted at exit.
public struct DummyInterface: Sendable {
    public let name: String
    public let addresses: [IPAddress]

    public init(name: String, addresses: [IPAddress]) {
        self.name = name
        self.addresses = addresses
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public var index: Int32? {
        let index = if_nametoindex(name)
        return index == 0 ? nil : Int32(index)
    }

    /// Makes the interface if it is missing, and adds the addresses it
    /// lacks; whether it was there.
    @discardableResult
    public func ensure() throws(Failure) -> Bool {
        var existed = true
        if index == nil {
            existed = false
            let error = RouteNetlink.perform(RouteNetlink.newDummyLink(name, sequence: 1))
            guard error == 0 || error == EEXIST else { throw Failure(description: "cannot make interface \(name): \(reason(error))") }
        }
        guard let index else { throw Failure(description: "interface \(name) is gone") }
        try addAddresses(index: index)
        return existed
    }

    /// Adds each address unless the interface has it (EEXIST).
    public func addAddresses(index: Int32) throws(Failure) {
        for (offset, address) in addresses.enumerated() {
            let error = RouteNetlink.perform(RouteNetlink.newAddress(address, index: index, sequence: UInt32(2 + offset)))
            guard error == 0 || error == EEXIST else { throw Failure(description: "cannot add \(address) to \(name): \(reason(error))") }
        }
    }

    public func remove() throws(Failure) {
        guard let index else { return }
        let error = RouteNetlink.perform(RouteNetlink.deleteLink(index: index, sequence: 100))
        guard error == 0 || error == ENODEV else { throw Failure(description: "cannot delete interface \(name): \(reason(error))") }
    }

    private func reason(_ error: Int32) -> String {
        // EOPNOTSUPP from RTM_NEWLINK: the kernel has no dummy driver.
        error == EOPNOTSUPP ? "the kernel has no dummy interfaces (\(String(cString: strerror(error))))" : String(cString: strerror(error))
    }
}
