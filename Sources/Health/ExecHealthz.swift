import Foundation
import Synchronization

/// exec-healthz (kubernetes/contrib, the sidecar of the kube-dns pod): runs
/// a command every period and answers `/healthz` from the last run.
public final class ExecHealthz: Sendable {
    public let command: ShellCommand
    public let period: Duration
    public let latency: Duration

    private struct Result {
        var output: String
        var error: String?
        var at: ContinuousClock.Instant
        var wallClock: Date
    }

    /// As the original: the first result is a success now, so the probe is
    /// healthy for the first `latency` while the first run is under way.
    private let last: Mutex<Result>

    public init(command: String, period: Duration, latency: Duration) {
        self.command = ShellCommand(command)
        self.period = period
        self.latency = latency
        last = Mutex(Result(output: "", error: nil, at: .now, wallClock: Date()))
    }

    /// Runs the command every period (back to back when a run takes longer)
    /// until cancelled; a run still going after `latency` is killed.
    public func run(report: @Sendable (ShellCommand.Outcome) -> Void) async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            // A thread of its own: a run blocks for as long as the command does.
            let outcome = await withCheckedContinuation { continuation in
                Thread.detachNewThread { [command, latency] in continuation.resume(returning: command.run(timeout: latency)) }
            }
            last.withLock { $0 = Result(output: outcome.output, error: outcome.error, at: .now, wallClock: Date()) }
            report(outcome)
            let next = started + period
            if next > .now { try? await Task.sleep(until: next) }
        }
    }

    /// `GET /healthz`: 200 `ok` and the output of a recent successful run;
    /// 503 with the failure, or when the last result is too old.
    public func answer() -> ProbeAnswer {
        let result = last.withLock { $0 }
        let summary = "\(result.output), at \(result.wallClock)"
        if let error = result.error {
            return .failing("Healthz probe error: Result of last exec: \(summary), error \(error)")
        }
        if ContinuousClock.now - result.at > latency {
            return .failing("Latest result too old to be useful: \(summary)")
        }
        return .ok(result.output.isEmpty ? "ok" : "ok\n\(result.output)")
    }
}
