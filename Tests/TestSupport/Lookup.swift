import Foundation
import KubeAPISimulator
import Testing

/// Short for KubeObjectJSON in test bodies, where most lines build one.
public typealias J = KubeObjectJSON

/// An answer as the end-to-end tests compare it: the rcode and the sorted
/// record data of the answer section (`a 10.0.0.20`), asked with `dig`.
public struct Lookup: Equatable, CustomStringConvertible, Sendable {
    public var rcode: String
    public var data: [String]
    public var description: String { "\(rcode) \(data)" }

    public init(rcode: String, data: [String]) {
        self.rcode = rcode
        self.data = data
    }

    public static func ok(_ data: String...) -> Lookup { Lookup(rcode: "NOERROR", data: data.sorted()) }
    public static let nxdomain = Lookup(rcode: "NXDOMAIN", data: [])
    public static let nodata = Lookup(rcode: "NOERROR", data: [])

    /// `name` under `cluster.local.` (or a reverse name as it is) of `type`.
    public static func of(_ name: String, _ type: String = "A", port: UInt16) -> Lookup {
        let fqdn = name.hasSuffix(".arpa") ? name + "." : name + ".cluster.local."
        guard let reply = try? Dig.query(fqdn, type, port: port, options: ["+time=1", "+tries=1"]) else {
            return Lookup(rcode: "no reply", data: [])
        }
        let data = reply.normalized.answer.map { line -> String in
            let fields = line.split(separator: " ", maxSplits: 4)
            return fields.count == 5 ? "\(fields[3]) \(fields[4])" : line
        }
        return Lookup(rcode: reply.rcode, data: data.sorted())
    }

    /// Waits until `name` answers `expected`; records what it answered last otherwise.
    public static func expectEventually(
        _ name: String, _ type: String = "A", port: UInt16, _ expected: Lookup, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var last = Lookup(rcode: "", data: [])
        let seen = eventually {
            last = of(name, type, port: port)
            return last == expected
        }
        #expect(seen, "\(name) \(type): last answered \(last), expected \(expected)", sourceLocation: sourceLocation)
    }

    /// The zone's SOA serial as served (the normalised answer hides serials).
    public static func soaSerial(port: UInt16) throws -> String {
        let reply = try Dig.query("cluster.local.", "SOA", port: port)
        return reply.answer.first?.split(whereSeparator: \.isWhitespace).dropFirst(6).first.map(String.init) ?? ""
    }
}

/// A simulator with `objects`, and the kube-dns binary watching it, while
/// `body` runs (given the simulator, the server and the API's port).
public func withSimulatedCluster(
    _ objects: [String], configuration: KubeAPISimulator.Configuration = .init(), arguments: [String] = [],
    _ body: (KubeAPISimulator, ServerProcess, Int) async throws -> Void
) async throws {
    try await offThePool {
        let simulator = try KubeAPISimulator(configuration)
        for object in objects { try simulator.apply(object) }
        let apiPort = try await simulator.start()
        do {
            let server = try ServerProcess(["--kube-master-url", "http://127.0.0.1:\(apiPort)", "-v", "2"] + arguments)
            defer { server.stop() }
            try await body(simulator, server, apiPort)
        } catch {
            await simulator.stop()
            throw error
        }
        await simulator.stop()
    }
}
