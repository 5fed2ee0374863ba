import ArgumentParser
import Foundation
import Health
import Logging

/// `kube-dns exechealthz`: the exec-healthz sidecar of the Kubernetes 1.2
/// kube-dns pod, flag for flag.
struct ExecHealthzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exechealthz",
        abstract: "Run a command periodically and serve its health on /healthz (exec-healthz).")

    @Option(name: .customLong("cmd"), help: "The command, run with sh -c.")
    var cmd = "echo healthz"

    @Option(name: .customLong("port"), help: "Port of /healthz.")
    var port = 8080

    @Option(name: .customLong("period"), help: "How often to run the command.")
    var period = GoDuration(.seconds(2), "2s")

    @Option(
        name: .customLong("latency"),
        help: "A result older than this is unhealthy; a run that takes longer is killed with its children.")
    var latency = GoDuration(.seconds(30), "30s")

    @Flag(name: .customLong("quiet"), help: "Log failed runs only.")
    var quiet = false

    func validate() throws {
        try FlagRange.check("port", port, FlagRange.port)
        try FlagRange.check("period", period, .milliseconds(1) ... .seconds(86400))
        try FlagRange.check("latency", latency, .milliseconds(1) ... .seconds(86400))
    }

    func run() async throws { try await serve() }

    func serve() async throws {
        Verbosity.bootstrap(quiet ? 0 : 2)
        let logger = Logger(label: "exechealthz")
        let healthz = ExecHealthz(command: cmd, period: period.duration, latency: latency.duration)
        let probe = try await ProbeServer(host: "0.0.0.0", port: port, routes: ["/healthz": { healthz.answer() }])
        logger.notice("serving /healthz", metadata: ["port": "\(probe.port)", "cmd": "\(cmd)"])
        try await Lifecycle.run(
            [
                (
                    "exechealthz",
                    { [quiet] in
                        await healthz.run { outcome in
                            if let error = outcome.error {
                                logger.error("command failed", metadata: ["error": "\(error)", "output": "\(outcome.output)"])
                            } else if !quiet {
                                logger.info("command succeeded", metadata: ["output": "\(outcome.output)"])
                            }
                        }
                    }
                )
            ],
            lameDuck: LameDuck(readiness: nil, period: .zero, logger: logger), logger: logger)
        await probe.close()
    }
}
