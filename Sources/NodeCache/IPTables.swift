import Foundation

/// The iptables command (ip6tables for IPv6), as node-cache drives it:
/// `-C` to check a rule, `-I CHAIN` to put it first, `-D` to delete it;
/// `-w` waits for the xtables lock other agents (kube-proxy) hold.
public struct IPTables: Sendable {
    public let command: String

    public init(ipv6: Bool) { command = ipv6 ? "ip6tables" : "iptables" }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// Another agent held the xtables lock past the wait.
        public var locked: Bool { description.contains("xtables lock") }
    }

    public func exists(_ rule: IPTablesRule) throws(Failure) -> Bool {
        let (status, output) = run(["-t", rule.table, "-C", rule.chain] + rule.arguments)
        switch status {
        case 0: return true
        // 1: no such rule (iptables-nft also says so with 1).
        case 1: return false
        default: throw Failure(description: "\(command) -C \(rule): \(output)")
        }
    }

    /// Puts the rule first in its chain unless it is there; whether it was.
    @discardableResult
    public func ensure(_ rule: IPTablesRule) throws(Failure) -> Bool {
        if try exists(rule) { return true }
        let (status, output) = run(["-t", rule.table, "-I", rule.chain] + rule.arguments)
        guard status == 0 else { throw Failure(description: "\(command) -I \(rule): \(output)") }
        return false
    }

    /// Deletes every copy of the rule.
    public func delete(_ rule: IPTablesRule) throws(Failure) {
        while try exists(rule) {
            let (status, output) = run(["-t", rule.table, "-D", rule.chain] + rule.arguments)
            guard status == 0 else { throw Failure(description: "\(command) -D \(rule): \(output)") }
        }
    }

    private func run(_ arguments: [String]) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command, "-w", "5"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (127, "\(command): \(error)") }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
