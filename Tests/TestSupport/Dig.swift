import Foundation

/// A reply as `dig` printed it.
public struct DigReply: Sendable {
    public var rcode: String = ""
    public var flags: Set<String> = []
    public var question: [String] = []
    public var answer: [String] = []
    public var authority: [String] = []
    public var additional: [String] = []
    /// The EDNS UDP size the server advertised, when it sent OPT.
    public var ednsUDPSize: Int?
    public var output: String = ""

    /// The record sections, normalised like ExpectedAnswer's.
    public var normalized: (answer: [String], authority: [String], additional: [String]) {
        (
            answer.map(ExpectedAnswer.normalize).sorted(), authority.map(ExpectedAnswer.normalize).sorted(),
            additional.map(ExpectedAnswer.normalize).sorted()
        )
    }
}

/// Runs the real `dig` (bind9-dnsutils) against a server on loopback.
public enum Dig {
    public static func query(
        _ name: String, _ type: String, port: UInt16, server: String = "127.0.0.1", tcp: Bool = false,
        options: [String] = []
    ) throws -> DigReply {
        var arguments = ["@\(server)", "-p", "\(port)", "+norec", "+time=2", "+tries=2", "+nocookie"]
        if tcp { arguments.append("+tcp") }
        arguments += options + [name, type]
        let output = try run("/usr/bin/dig", arguments)
        return parse(output)
    }

    static func parse(_ output: String) -> DigReply {
        var reply = DigReply(output: output)
        var section: WritableKeyPath<DigReply, [String]>?
        for line in output.split(separator: "\n").map(String.init) {
            if let range = line.range(of: "status: ") {
                reply.rcode = String(line[range.upperBound...].prefix { $0 != "," })
            } else if line.hasPrefix(";; flags:") {
                let flags = line.dropFirst(9).prefix { $0 != ";" }
                reply.flags = Set(flags.split(separator: " ").map(String.init))
            } else if line.hasPrefix("; EDNS:"), let range = line.range(of: "udp: ") {
                reply.ednsUDPSize = Int(line[range.upperBound...].prefix { $0.isNumber })
            } else if line.hasPrefix(";; QUESTION SECTION:") {
                section = \.question
            } else if line.hasPrefix(";; ANSWER SECTION:") {
                section = \.answer
            } else if line.hasPrefix(";; AUTHORITY SECTION:") {
                section = \.authority
            } else if line.hasPrefix(";; ADDITIONAL SECTION:") {
                section = \.additional
            } else if line.hasPrefix(";;") && !line.contains("SECTION") {
                section = nil
            } else if let section, !line.isEmpty {
                if section == \.question {
                    reply.question.append(String(line.dropFirst()))
                } else if !line.hasPrefix(";") {
                    reply[keyPath: section].append(line)
                }
            }
        }
        return reply
    }
}

/// Runs a program to its end; returns what it printed on standard output.
public func run(_ path: String, _ arguments: [String]) throws -> String {
    try runToEnd(path, arguments).stdout
}

/// Runs a program to its end; returns its exit status and what it printed.
public func runToEnd(_ path: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let (out, err) = try ChildStart.alone {
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (out, err)
    }
    // Standard output to its end first: what the programs run here write to
    // standard error fits in a pipe's buffer.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
