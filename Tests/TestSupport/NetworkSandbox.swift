import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A network namespace of the test's own, and the programs run in it.
/// With podman run inside it, the pods' bridge, the ports podman
/// publishes and the pods' addresses live there and nowhere else, and a
/// client in it (`dig`, `curl`) reaches a pod's address as another pod of
/// the cluster would. Everything it made goes at `remove()`: pods,
/// containers, processes, the namespace and its /etc/netns files.
public final class NetworkSandbox: @unchecked Sendable {
    // @unchecked: a sandbox belongs to one test, which calls it from one
    // task at a time; the lists of what to remove are behind a lock all the same.
    /// The image under test (`scripts/test-image.sh` builds it and sets this).
    public static var image: String? { ProcessInfo.processInfo.environment["KUBE_DNS_IMAGE"] }

    /// podman's settings on this machine: runc, cgroupfs, explicit ulimits.
    public static let containersConf = repositoryRoot.appendingPathComponent("deploy/containers.conf").path

    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public let namespace: String
    private let made = Mutex(Made())

    private struct Made {
        var pods: [String] = []
        var containers: [String] = []
        var volumes: [String] = []
        var processes: [Process] = []
    }

    public init() throws {
        namespace = "kdns-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Self.check(Self.spawnToExit(["/usr/sbin/ip", "netns", "add", namespace]), "ip netns add")
        try Self.check(runToEnd("/usr/sbin/ip", ["-n", namespace, "link", "set", "lo", "up"]), "ip link set lo up")
    }

    /// Runs a command in the namespace (`nsenter --net`, which keeps the
    /// host's mounts, cgroups included, unlike `ip netns exec`).
    public func run(_ command: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try Self.spawnToExit(
            ["/usr/bin/nsenter", "--net=/run/netns/\(namespace)", "/usr/bin/env", "CONTAINERS_CONF=\(Self.containersConf)"] + command)
    }

    /// Runs a command to its exit with posix_spawn, its output through
    /// files and every other descriptor closed. Foundation's Process learns
    /// of an exit from a descriptor the child inherits, and podman hands
    /// that on to the container's monitor (conmon), which outlives the
    /// command: the exit would never be seen. A pipe would never end either.
    static func spawnToExit(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID())").path
        defer { for stream in [".out", ".err"] { try? FileManager.default.removeItem(atPath: output + stream) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, output + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = ChildStart.alone {
            // posix_spawn_file_actions_addclosefrom_np is not imported: each open descriptor, by name.
            let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            for descriptor in open.compactMap(Int32.init) where descriptor > 2 {
                posix_spawn_file_actions_addclose(&actions, descriptor)
            }
            return posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        }
        guard spawned == 0 else { throw SandboxError(description: "\(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let read = { (stream: String) in (try? String(contentsOfFile: output + stream, encoding: .utf8)) ?? "" }
        // WIFEXITED/WEXITSTATUS, which Swift does not import: the status is in bits 8 to 15, a signal in bits 0 to 6.
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), read(".out"), read(".err"))
    }

    /// `podman ARGS` in the namespace, bounded in time; its output, or an
    /// error with what it printed.
    @discardableResult
    public func podman(_ arguments: [String], timeout: Int = 120) throws -> String {
        let result = try run(["/usr/bin/timeout", "\(timeout)", "/usr/bin/podman"] + arguments)
        try Self.check(result, "podman \(arguments.prefix(2).joined(separator: " "))")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `podman run -d ARGS`: the container's name, removed at the end.
    public func runContainer(name: String, _ arguments: [String]) throws -> String {
        made.withLock { $0.containers.append(name) }
        try podman(["run", "-d", "--name", name] + arguments)
        return name
    }

    /// The host PID of a container's first process (its namespaces are the pod's).
    public func pid(ofContainer container: String) throws -> Int32 {
        guard let pid = Int32(try podman(["inspect", "--format", "{{.State.Pid}}", container])), pid > 0 else {
            throw SandboxError(description: "\(container) is not running")
        }
        return pid
    }

    /// Plays `pod` (a Pod manifest) with `podman kube play` on podman's
    /// default bridge, the ConfigMaps in `configMaps` supplied as the
    /// API server would; `beforeStart` runs once the pod's network exists
    /// (given its infra container's PID) and before any container starts.
    public func play(
        _ pod: [String: Any], configMaps: [String] = [], beforeStart: (Int32) throws -> Void = { _ in }
    ) throws -> PlayedPod {
        let name = try PlayedPod.name(of: pod)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pod-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try JSONSerialization.data(withJSONObject: pod, options: .withoutEscapingSlashes).write(to: URL(fileURLWithPath: file))
        made.withLock { $0.pods.append(name) }
        let volumesBefore = Set(try podman(["volume", "ls", "--quiet"]).split(separator: "\n"))
        defer {
            // podman keeps a volume per ConfigMap it was given.
            let volumes = Set((try? podman(["volume", "ls", "--quiet"]))?.split(separator: "\n") ?? []).subtracting(volumesBefore)
            made.withLock { $0.volumes += volumes.map(String.init) }
        }
        // The default network `podman` has no DNS server of its own on the
        // bridge (kube play's own network has one, on port 53).
        try podman(["kube", "play", "--network", "podman", "--start=false"] + configMaps.flatMap { ["--configmap", $0] } + [file])
        let infra = try podman(["pod", "inspect", "--format", "{{.InfraContainerID}}", name])
        try podman(["start", infra])
        let pid = try pid(ofContainer: infra)
        try beforeStart(pid)
        try podman(["pod", "start", name])
        let address = try podman(["inspect", "--format", "{{.NetworkSettings.Networks.podman.IPAddress}}", infra])
        return PlayedPod(name: name, address: address, infraPID: pid)
    }

    /// Starts `command` in the network namespace of `pid` (a pod's), stopped at the end.
    public func start(_ command: [String], inNetworkOf pid: Int32, log: String) throws -> Process {
        try launch("/usr/bin/nsenter", ["-t", "\(pid)", "-n"] + command, log: log)
    }

    /// Starts `command` in the sandbox's namespace, stopped at the end.
    public func start(_ command: [String], environment: [String: String] = [:], log: String) throws -> Process {
        try launch(
            "/usr/bin/nsenter", ["--net=/run/netns/\(namespace)", "/usr/bin/env"] + environment.map { "\($0.key)=\($0.value)" } + command,
            log: log)
    }

    /// Starts `command` with `ip netns exec`, so that it reads `resolvConf`
    /// as its /etc/resolv.conf; stopped at the end.
    public func start(_ command: [String], resolvConf: String, log: String) throws -> Process {
        let directory = "/etc/netns/\(namespace)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try resolvConf.write(toFile: directory + "/resolv.conf", atomically: true, encoding: .utf8)
        return try launch("/usr/sbin/ip", ["netns", "exec", namespace] + command, log: log)
    }

    private func launch(_ executable: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try ChildStart.alone {
            let output = FileHandle(forWritingAtPath: log) ?? .nullDevice
            process.standardOutput = output
            process.standardError = output
            try process.run()
        }
        made.withLock { $0.processes.append(process) }
        return process
    }

    /// Makes what is sent to `destination` (an address of `lo`) leave from
    /// `source`, another of them: the local route's preferred source.
    public func send(to destination: String, from source: String) throws {
        try Self.check(
            Self.spawnToExit([
                "/usr/sbin/ip", "-n", namespace, "route", "replace", "table", "local", "local", destination, "dev", "lo", "scope", "host",
                "src", source,
            ]), "ip route replace")
    }

    /// Gives `lo` these addresses (/32), for servers to bind.
    public func addAddresses(_ addresses: [String]) throws {
        for address in addresses {
            try Self.check(Self.spawnToExit(["/usr/sbin/ip", "-n", namespace, "addr", "add", "\(address)/32", "dev", "lo"]), "ip addr add")
        }
    }

    /// Runs `command` with `ip netns exec`, which also puts
    /// /etc/netns/NAME/resolv.conf in place of /etc/resolv.conf: how a
    /// stub resolver (glibc's getent) is given the sandbox's nameserver.
    public func runWithResolvConf(_ resolvConf: String, _ command: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let directory = "/etc/netns/\(namespace)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try resolvConf.write(toFile: directory + "/resolv.conf", atomically: true, encoding: .utf8)
        return try Self.spawnToExit(["/usr/sbin/ip", "netns", "exec", namespace] + command)
    }

    /// `dig` in the namespace, at `server`.
    public func dig(_ name: String, _ type: String, server: String, port: Int = 53, tcp: Bool = false) throws -> DigReply {
        var arguments = ["/usr/bin/dig", "@\(server)", "-p", "\(port)", "+time=2", "+tries=2", "+nocookie"]
        if tcp { arguments.append("+tcp") }
        return Dig.parse(try run(arguments + [name, type]).stdout)
    }

    /// `GET url` with curl in the namespace: the status (0: nothing answered) and body.
    public func get(_ url: String) throws -> (status: Int, body: String) {
        let result = try run(["/usr/bin/curl", "-s", "--max-time", "2", "-w", "\n%{http_code}", url])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// Removes the pods, containers and processes it made, then the namespace.
    public func remove() {
        let made = made.withLock { $0 }
        for process in made.processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for pod in made.pods { _ = try? podman(["pod", "rm", "--force", "--ignore", pod]) }
        for container in made.containers { _ = try? podman(["rm", "--force", "--ignore", container]) }
        for volume in made.volumes { _ = try? podman(["volume", "rm", "--force", volume]) }
        _ = try? runToEnd("/usr/sbin/ip", ["netns", "delete", namespace])
        try? FileManager.default.removeItem(atPath: "/etc/netns/\(namespace)")
    }

    private static func check(_ result: (status: Int32, stdout: String, stderr: String), _ what: String) throws {
        guard result.status == 0 else {
            throw SandboxError(description: "\(what): status \(result.status): \(result.stderr)\(result.stdout)")
        }
    }

    public struct SandboxError: Error, CustomStringConvertible {
        public let description: String
    }
}

/// A pod `podman kube play` started.
public struct PlayedPod: Sendable {
    public let name: String
    /// Its address on the sandbox's bridge.
    public let address: String
    /// The PID of its infra container, whose network namespace is the pod's.
    public let infraPID: Int32

    /// A container's name, as podman names a pod's containers.
    public func container(_ name: String) -> String { "\(self.name)-\(name)" }

    static func name(of pod: [String: Any]) throws -> String {
        guard let name = (pod["metadata"] as? [String: Any])?["name"] as? String else {
            throw NetworkSandbox.SandboxError(description: "the pod has no metadata.name")
        }
        return name
    }
}
