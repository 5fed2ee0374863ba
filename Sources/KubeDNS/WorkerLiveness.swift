import DataPlane
import Synchronization

/// `/healthz`: alive while every DNS worker's event loop turns. The probe
/// is up before the DNS server exists; until then there is nothing to be
/// wedged. A loop silent this long is wedged, not busy: under any load a
/// loop turns many times a second.
final class WorkerLiveness: Sendable {
    static let deadline: Duration = .seconds(2)
    private let dns = Mutex<DNSServer?>(nil)

    func watch(_ server: DNSServer) { dns.withLock { $0 = server } }

    /// The DNS server once it exists (for /metrics).
    var server: DNSServer? { dns.withLock { $0 } }

    /// nil when alive, else why not.
    func problem() -> String? {
        guard let server, let stalled = server.stalledWorker(deadline: Self.deadline) else { return nil }
        return "DNS worker \(stalled.worker) has not turned its event loop for \(stalled.silent)"
    }
}
