/// Kubernetes objects to DNS records, per the Kubernetes DNS-Based Service
/// Discovery specification 1.1.0 (kubernetes/dns, docs/specification.md),
/// with CoreDNS's choices where the specification is silent.
public enum ClusterRecords {
    /// The zones for `objects`: the cluster zone, and the reverse zones
    /// holding the PTR records of cluster IPs and endpoints.
    public static func zones(for objects: ClusterObjects, options: RecordOptions) -> ZoneSet {
        var store = ClusterRecordStore(options: options)
        store.load(objects)
        return store.wholeZones()
    }

    /// The zones before the first load: the apex records, and SERVFAIL for
    /// every other name ("try again", never "no such name").
    public static func unsyncedZones(options: RecordOptions) -> ZoneSet {
        var zones = ClusterRecordStore(options: options).wholeZones()
        zones.unsynced = true
        return zones
    }

    /// The zone of the clients' index: `<a-b-c-d>.<apex>` TXT
    /// `<namespace>` for each pod address, whose search path starts with
    /// `<namespace>.svc.<domain>` (RecordOptions.clientIndex).
    public static let clientIndexApex = DNSName(validated: ["clients", "kube-dns", "internal"])

    /// `_<port>._<proto>.<service>`, the owner of a named port's SRV
    /// records: the protocol lower-cased (spec §2.3.2), TCP when not given.
    public static func srvOwner(port: String, protocol proto: String?, service: DNSName) -> DNSName? {
        try? DNSName(labels: ["_" + port, "_" + (proto ?? "TCP").lowercased()], under: service)
    }

    /// The addresses DNS publishes for a headless service: from its
    /// EndpointSlices when it has any (they supersede v1 Endpoints, so the
    /// two are never added up), else from its Endpoints. Ready addresses
    /// only, unless the service publishes not-ready ones.
    public static func endpointAddresses(
        of service: Service, slices: [EndpointSlice], endpoints: Endpoints?, podNames: Bool = false
    ) -> [EndpointAddress] {
        let includeNotReady = service.publishesNotReady
        var result: [EndpointAddress] = []
        if !slices.isEmpty {
            for slice in slices.sorted(by: { $0.metadata.name < $1.metadata.name })
            where slice.addressType != "FQDN" {
                for endpoint in slice.endpoints where endpoint.isReady || includeNotReady {
                    for text in endpoint.addresses {
                        guard let ip = IPAddress(text) else { continue }
                        result.append(
                            EndpointAddress(ip: ip, hostname: endpoint.hostname ?? (podNames ? endpoint.podName : nil), ports: slice.ports))
                    }
                }
            }
        } else if let endpoints {
            for subset in endpoints.subsets {
                let addresses = (subset.addresses ?? []) + (includeNotReady ? subset.notReadyAddresses ?? [] : [])
                for address in addresses {
                    guard let ip = IPAddress(address.ip) else { continue }
                    result.append(
                        EndpointAddress(
                            ip: ip, hostname: address.hostname ?? (podNames ? address.podName : nil), ports: subset.ports ?? []))
                }
            }
        }
        return result
    }
}

/// One published address of a headless service.
public struct EndpointAddress: Hashable, Sendable {
    public var ip: IPAddress
    public var hostname: String?
    public var ports: [EndpointPort]

    /// The endpoint's hostname (or its pod's name, with `endpoint_pod_names`),
    /// lower-cased, when it is a DNS label.
    public var hostnameLabel: String? {
        guard let hostname, DNSName.isLabel(hostname) else { return nil }
        return hostname.lowercased()
    }

    /// The endpoint's label: its hostname, else its dashed address (spec
    /// §2.1 leaves the form to the implementation; CoreDNS uses this one).
    var label: String { hostnameLabel ?? ip.dashed }
}
