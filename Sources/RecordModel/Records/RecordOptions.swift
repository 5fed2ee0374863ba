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
    /// Which namespaces' objects make records (CoreDNS's `namespaces` and
    /// `namespace_labels`); the others' names are NXDOMAIN.
    public var exposure = NamespaceExposure.all
    /// An endpoint without a hostname is named for its pod rather than its
    /// address (CoreDNS's `endpoint_pod_names`).
    public var endpointPodNames = false
    /// A Service with a cluster IP but no ready endpoint has no records, so
    /// a client goes on down its search path (CoreDNS's `ignore empty_service`).
    public var ignoreEmptyServices = false

    /// Each pod's address names its namespace's search domain in a zone no
    /// query is answered from (ClusterRecords.clientIndexApex), for the data
    /// plane's `autopath @kubernetes`; needs `pods` verified.
    public var clientIndex = false
    /// The clusterset zone (CoreDNS's `multicluster`): ServiceImports as
    /// `<svc>.<ns>.svc.<zone>`, by the Multi-Cluster Services DNS
    /// specification (KEP-1645); nil: none.
    public var multicluster: DNSName?
    /// Services' external addresses in zones of their own (CoreDNS's `k8s_external`); nil: none.
    public var external: ExternalZones?

    public struct ExternalZones: Hashable, Sendable {
        public var zones: [DNSName]
        /// The label of the zone's own name server, `ns1.<apex>.<zone>`.
        public var apex: String
        public var ttl: UInt32
        /// Headless services without external IPs answer with their endpoints.
        public var headless: Bool
        /// The zones whose missing names go on to forwarding rather than NXDOMAIN.
        public var fallingThrough: Set<DNSName>

        public init(zones: [DNSName], apex: String = "dns", ttl: UInt32 = 5, headless: Bool = false, fallingThrough: Set<DNSName> = []) {
            (self.zones, self.apex, self.ttl, self.headless, self.fallingThrough) = (zones, apex, ttl, headless, fallingThrough)
        }
    }

    public enum NamespaceExposure: Hashable, Sendable {
        case all
        /// These namespaces only.
        case listed(Set<String>)
        /// The namespaces among the objects' Namespace objects: the source
        /// lists only those a label selector picks.
        case namespaceObjects
    }

    public init(domain: DNSName, ttl: UInt32 = 30, pods: PodMode = .insecure, serial: UInt32 = 1) {
        self.domain = domain
        self.ttl = ttl
        self.pods = pods
        self.serial = serial
    }

    /// The schema version of the Kubernetes DNS specification we follow.
    public static let schemaVersion = "1.1.0"
}
