/// What shapes the records besides the objects: the flags of the server.
public struct RecordOptions: Hashable, Sendable {
    /// How pod names `a-b-c-d.<ns>.pod.<zone>` are answered (kube-dns `--pods`).
    public enum PodMode: String, Hashable, Sendable, CaseIterable {
        /// Any dashed address in an existing namespace (kube-dns's behaviour).
        case insecure
        /// Only the addresses of pods that exist in that namespace.
        case verified
        /// No pod names.
        case disabled
    }

    public var domain: DNSName
    public var ttl: UInt32
    public var pods: PodMode
    /// The SOA serial: the caller's clock, so the model stays pure.
    public var serial: UInt32
    /// Whether names of the domain that the cluster does not have go on
    /// to forwarding (CoreDNS's `fallthrough`) rather than NXDOMAIN.
    public var domainFallsThrough = false
    /// Whether reverse names of addresses the cluster does not own go on
    /// to forwarding (kube-dns, and every default Corefile's
    /// `fallthrough in-addr.arpa ip6.arpa`) rather than NXDOMAIN.
    public var reverseFallsThrough = true

    public init(domain: DNSName, ttl: UInt32 = 30, pods: PodMode = .insecure, serial: UInt32 = 1) {
        self.domain = domain
        self.ttl = ttl
        self.pods = pods
        self.serial = serial
    }

    /// The schema version of the Kubernetes DNS specification we follow.
    public static let schemaVersion = "1.1.0"
}
