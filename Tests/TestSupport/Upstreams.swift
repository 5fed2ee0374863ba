import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real DNS server from Debian serving a zone on a loopback port, started
/// by the test and stopped by its PID: Unbound (logging every query it
/// gets) or Knot DNS.
public final class UpstreamServer: @unchecked Sendable {
    // @unchecked: `port`, `directory` are constants; the Process is started
    // and stopped by the owner alone.
    public let port: UInt16
    /// The port DNS over TLS is served on, when it is.
    public let tlsPort: UInt16?
    public let directory: URL
    private let process: Process
    private let logPath: String

    public enum Kind {
        case unbound, knot
        /// Unbound forwarding every name to a server on this loopback port.
        case unboundForwarder(to: UInt16)
    }

    /// Serves `zone` (zone-file text) for `origin` on 127.0.0.1 (a
    /// forwarder: answers `origin` SOA through its server); Unbound also
    /// over TLS with `tls`'s server certificate.
    public init(_ kind: Kind, origin: String, zone: String = "", tls: TestCertificates? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("upstream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let zonePath = directory.appendingPathComponent("zone").path
        try zone.write(toFile: zonePath, atomically: true, encoding: .utf8)
        logPath = directory.appendingPathComponent("log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        var started: (Process, UInt16, UInt16?)?
        for _ in 0..<5 where started == nil {
            let port = try freePort()
            let tlsPort = tls == nil ? nil : try freePort()
            let process = Process()
            switch kind {
            case .unbound, .unboundForwarder:
                let tlsConfig = zip([tlsPort], [tls]).compactMap { port, certificates -> String? in
                    guard let port, let certificates else { return nil }
                    return """
                          interface: 127.0.0.1@\(port)
                          tls-port: \(port)
                          tls-service-key: "\(certificates.serverKeyPath)"
                          tls-service-pem: "\(certificates.serverCertificatePath)"

                        """
                }.joined()
                let config = """
                    server:
                      interface: 127.0.0.1@\(port)
                    \(tlsConfig)  port: \(port)
                      do-daemonize: no
                      username: ""
                      chroot: ""
                      directory: "\(directory.path)"
                      pidfile: ""
                      use-syslog: no
                      logfile: "\(logPath)"
                      log-queries: yes
                      access-control: 127.0.0.0/8 allow
                      do-ip6: no
                      num-threads: 1
                      local-zone: "test." nodefault
                      do-not-query-localhost: no

                    """ + Self.unboundZone(kind, origin: origin, zonePath: zonePath)
                let configPath = directory.appendingPathComponent("unbound.conf").path
                try config.write(toFile: configPath, atomically: true, encoding: .utf8)
                process.executableURL = URL(fileURLWithPath: "/usr/sbin/unbound")
                process.arguments = ["-d", "-c", configPath]
            case .knot:
                let config = """
                    server:
                        listen: 127.0.0.1@\(port)
                        rundir: \(directory.path)
                        udp-workers: 1
                        tcp-workers: 1
                        background-workers: 1
                    database:
                        storage: \(directory.path)
                    log:
                      - target: \(logPath)
                        any: info
                    zone:
                      - domain: \(origin)
                        file: \(zonePath)
                        zonefile-sync: -1
                        journal-content: none

                    """
                let configPath = directory.appendingPathComponent("knot.conf").path
                try config.write(toFile: configPath, atomically: true, encoding: .utf8)
                process.executableURL = URL(fileURLWithPath: "/usr/sbin/knotd")
                process.arguments = ["-c", configPath]
            }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try ChildStart.alone { try process.run() }
            if Self.answers(port: port, origin: origin) {
                started = (process, port, tlsPort)
            } else {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        guard let started else { throw POSIXError(.EADDRINUSE) }
        (process, port, tlsPort) = started
    }

    private static func unboundZone(_ kind: Kind, origin: String, zonePath: String) -> String {
        if case .unboundForwarder(let port) = kind {
            return """
                forward-zone:
                  name: "."
                  forward-addr: 127.0.0.1@\(port)

                """
        }
        return """
            auth-zone:
              name: "\(origin)"
              zonefile: "\(zonePath)"
              for-downstream: yes
              for-upstream: no

            """
    }

    private static func answers(port: UInt16, origin: String) -> Bool {
        for _ in 0..<50 {
            if let reply = try? Dig.query(origin, "SOA", port: port, options: ["+rec", "+time=1", "+tries=1"]), reply.rcode == "NOERROR" {
                return true
            }
            usleep(100_000)
        }
        return false
    }

    /// `ip:port` for kube-dns's flags.
    public var address: String { "127.0.0.1:\(port)" }

    /// How many queries Unbound has logged for `name` (as written, ending
    /// with a dot) and `type`.
    public func queries(_ name: String, _ type: String) -> Int {
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { $0.hasSuffix(" \(name) \(type) IN") }.count
    }

    /// Every name Unbound has logged a query for.
    public var queriedNames: [String] {
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return log.split(separator: "\n").compactMap { line in
            guard line.hasSuffix(" IN") else { return nil }
            let words = line.split(separator: " ")
            return words.count >= 4 ? String(words[words.count - 3]) : nil
        }
    }

    public func stop() {
        // A throwaway server: no state to save. (SIGTERM may be blocked in
        // the mask it inherited from the test process.)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

/// A UDP "upstream" on a loopback port that reads every query and never
/// replies, as a server behind a dropping firewall would.
public final class SilentUpstream: Sendable {
    public let port: UInt16
    private let fd: Int32
    private let received = Atomic(0)
    private let stopped = Atomic(false)

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard bound == 0,
            withUnsafeMutablePointer(
                to: &address,
                {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
                }) == 0
        else { throw POSIXError(.EADDRINUSE) }
        port = UInt16(bigEndian: address.sin_port)
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 2048)
            while !stopped.load(ordering: .relaxed) {
                if recv(fd, &buffer, buffer.count, 0) > 0 { received.add(1, ordering: .relaxed) }
            }
            close(fd)
        }.start()
    }

    public var address: String { "127.0.0.1:\(port)" }
    /// Queries read so far.
    public var queries: Int { received.load(ordering: .relaxed) }

    public func stop() { stopped.store(true, ordering: .relaxed) }
    deinit { stop() }
}
