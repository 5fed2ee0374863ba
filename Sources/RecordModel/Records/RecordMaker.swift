/// The records (and record-less names) that one part of the cluster puts
/// in the zones: the apex, a namespace, a Service with its endpoints, a pod.
struct Contribution: Equatable, Sendable {
    var records: [ResourceRecord] = []
    /// The PTR records, kept by address: a large cluster has hundreds of
    /// thousands, and most are published from the address alone.
    var pointers: [Pointer] = []
    var names: [DNSName] = []
    var problems: [String] = []
}

/// A PTR record (RFC 1035 §3.5, RFC 3596 §2.5) at the name of `address`.
struct Pointer: Equatable, Sendable {
    var address: IPAddress
    var target: DNSName

    func record(ttl: UInt32) -> ResourceRecord { ResourceRecord(address.reverseName, ttl: ttl, .ptr(target)) }
}

/// What makes a contribution: each is computed from the objects alone, so
/// an update recomputes only the contributions it touches.
enum Contributor: Hashable, Sendable {
    case apex
    case namespace(String)
    case service(ObjectKey)
    case pod(ObjectKey)
    case serviceImport(ObjectKey)
}

/// Makes the records of each contributor, per the Kubernetes DNS
/// specification (see ClusterRecords).
struct RecordMaker {
    let options: RecordOptions
    private(set) var contribution = Contribution()

    init(options: RecordOptions) { self.options = options }

    /// The name of the DNS service in NS and SOA records, as CoreDNS has it.
    static func nsName(_ domain: DNSName) -> DNSName { DNSName(validated: ["ns", "dns"], under: domain) }

    var ttl: UInt32 { options.ttl }
    var domain: DNSName { options.domain }

    private mutating func add(_ record: ResourceRecord) { contribution.records.append(record) }

    /// NS naming this DNS service with its cluster IPs as glue, and the
    /// schema version (spec §2.2).
    mutating func addApex(dnsService: Service?) {
        let ns = Self.nsName(domain)
        add(ResourceRecord(domain, ttl: ttl, .ns(ns)))
        for ip in dnsService?.clusterIPs ?? [] {
            add(ResourceRecord(ns, ttl: ttl, .address(ip)))
        }
        let version = DNSName(validated: ["dns-version"], under: domain)
        add(ResourceRecord(version, ttl: ttl, .txt([RecordOptions.schemaVersion])))
    }

    /// `<ns>.svc.<zone>` exists for every namespace, and `<ns>.pod.<zone>`
    /// unless pod names are disabled.
    mutating func addNamespace(_ namespace: String) {
        guard let svc = try? DNSName(labels: [namespace, "svc"], under: domain) else {
            contribution.problems.append("namespace \(namespace): not a DNS label")
            return
        }
        contribution.names.append(svc)
        if options.pods != .disabled {
            contribution.names.append(DNSName(validated: [namespace.lowercased(), "pod"], under: domain))
        }
    }

    mutating func addService(_ service: Service, endpoints: [EndpointAddress]) {
        let key = service.metadata.key
        guard let name = try? DNSName(labels: [key.name, key.namespace, "svc"], under: domain) else {
            contribution.problems.append("service \(key): not a DNS name")
            return
        }
        if service.isExternalName {
            addExternalName(service, name: name)
        } else if service.isHeadless {
            addHeadless(service, name: name, endpoints: endpoints)
        } else {
            addClusterIP(service, name: name)
        }
        if let external = options.external, !service.isExternalName {
            for zone in external.zones { addExternal(service, zone: zone, external, endpoints: endpoints) }
        }
    }

    /// k8s_external: `<service>.<ns>.<zone>` holds the external IPs and
    /// load balancers' IPs (a load balancer known by host name only is a
    /// CNAME to it), with SRV per named port; with `headless`, a headless
    /// service without them holds its endpoints, as in the cluster zone.
    private mutating func addExternal(
        _ service: Service, zone: DNSName, _ external: RecordOptions.ExternalZones, endpoints: [EndpointAddress]
    ) {
        let key = service.metadata.key
        guard let name = try? DNSName(labels: [key.name, key.namespace], under: zone) else { return }
        let addresses = service.externalAddresses
        let ips = addresses.compactMap(IPAddress.init)
        if !ips.isEmpty {
            addAddresses(ips, ports: service.ports, at: name, ttl: external.ttl, pointers: false)
        } else if let host = addresses.first, let target = try? DNSName(host) {
            add(ResourceRecord(name, ttl: external.ttl, .cname(target)))
        } else if external.headless, service.isHeadless {
            addEndpoints(endpoints, at: name, ttl: external.ttl, clusterService: nil)
        }
    }

    /// Spec §2.5: a CNAME to the external name (an address there is not a name).
    private mutating func addExternalName(_ service: Service, name: DNSName) {
        guard let external = service.externalName, IPAddress(external) == nil,
            let target = try? DNSName(external)
        else {
            contribution.problems.append("service \(service.metadata.key): externalName is not a DNS name")
            return
        }
        add(ResourceRecord(name, ttl: ttl, .cname(target)))
    }

    /// Spec §2.3: A/AAAA per cluster IP, SRV per named port, PTR per IP.
    private mutating func addClusterIP(_ service: Service, name: DNSName) {
        let ips = service.clusterIPs
        guard !ips.isEmpty else { return }
        let ports = service.ports
        contribution.records.reserveCapacity(ips.count + ports.count)
        contribution.pointers.reserveCapacity(ips.count)
        addAddresses(ips, ports: ports, at: name, ttl: ttl, pointers: true)
    }

    /// A/AAAA per address at `name`, with a PTR each when `pointers`; SRV
    /// per named port, its target `name`.
    private mutating func addAddresses(_ ips: [IPAddress], ports: [Service.Port], at name: DNSName, ttl: UInt32, pointers: Bool) {
        for ip in ips {
            add(ResourceRecord(name, ttl: ttl, .address(ip)))
            if pointers { addPTR(ip, to: name) }
        }
        for port in ports {
            guard let (owner, number) = Self.srvPort(port.name, port.protocol, port.port, of: name) else { continue }
            add(ResourceRecord(owner, ttl: ttl, .srv(priority: 0, weight: 100, port: number, target: name)))
        }
    }

    /// Spec §2.4: A/AAAA per published endpoint, at the service and at the
    /// endpoint's own name; SRV per named port and endpoint; PTR per
    /// endpoint. No endpoint: no records, so the name is NXDOMAIN (§2.4.1).
    private mutating func addHeadless(_ service: Service, name: DNSName, endpoints: [EndpointAddress]) {
        contribution.records.reserveCapacity(endpoints.count * (2 + (endpoints.first?.ports.count ?? 0)))
        contribution.pointers.reserveCapacity(endpoints.count)
        addEndpoints(endpoints, at: name, ttl: ttl, clusterService: service.metadata.key)
    }

    /// A/AAAA per endpoint at `name` and at the endpoint's own name below
    /// it, SRV per named port and endpoint. For a `clusterService` (the
    /// cluster zone's), a PTR per endpoint too, and an endpoint whose name
    /// would pass 255 bytes is a problem of that service.
    private mutating func addEndpoints(_ endpoints: [EndpointAddress], at name: DNSName, ttl: UInt32, clusterService: ObjectKey?) {
        var srv = SRVSet()
        // The endpoints of a slice share its ports: their SRV owners are made once.
        var ports: [EndpointPort]?
        var owners: [(index: Int, port: UInt16)] = []
        for endpoint in endpoints {
            guard let host = try? DNSName(labels: [endpoint.label], under: name) else {
                if let clusterService {
                    contribution.problems.append("service \(clusterService): endpoint \(endpoint.ip) makes a name over 255 bytes")
                }
                continue
            }
            if endpoint.ports != ports {
                ports = endpoint.ports
                owners = srv.owners(of: endpoint.ports, under: name)
            }
            add(ResourceRecord(name, ttl: ttl, .address(endpoint.ip)))
            add(ResourceRecord(host, ttl: ttl, .address(endpoint.ip)))
            if clusterService != nil { addPTR(endpoint.ip, to: host) }
            for (index, port) in owners { srv.add(SRVTarget(port: port, host: host), at: index) }
        }
        srv.write(into: &contribution.records, ttl: ttl)
    }

    /// A ServiceImport in the clusterset zone, per the Multi-Cluster
    /// Services DNS specification (KEP-1645): `<svc>.<ns>.svc.<zone>` with
    /// its ClusterSetIPs, or, headless, every ready endpoint of every
    /// cluster, each also at `<hostname>.<clusterid>.<svc>.<ns>.svc.<zone>`
    /// (its dashed address when it has no hostname); SRV per named port.
    mutating func addServiceImport(_ imported: ServiceImport, zone: DNSName, slices: [EndpointSlice]) {
        let key = imported.metadata.key
        guard let name = try? DNSName(labels: [key.name, key.namespace, "svc"], under: zone) else {
            contribution.problems.append("service import \(key): not a DNS name")
            return
        }
        guard imported.isHeadless else {
            addAddresses(imported.ips.compactMap(IPAddress.init), ports: imported.ports, at: name, ttl: ttl, pointers: false)
            return
        }
        var srv = SRVSet()
        for slice in slices.sorted(by: { $0.metadata.name < $1.metadata.name }) where slice.addressType != "FQDN" {
            guard let cluster = slice.sourceCluster, DNSName.isLabel(cluster), !cluster.contains(".") else { continue }
            let owners = srv.owners(of: slice.ports, under: name)
            for endpoint in slice.endpoints where endpoint.isReady {
                for ip in endpoint.addresses.compactMap(IPAddress.init) {
                    let address = EndpointAddress(ip: ip, hostname: endpoint.hostname, ports: slice.ports)
                    guard let host = try? DNSName(labels: [address.label, cluster.lowercased()], under: name) else { continue }
                    add(ResourceRecord(name, ttl: ttl, .address(ip)))
                    add(ResourceRecord(host, ttl: ttl, .address(ip)))
                    for (index, port) in owners { srv.add(SRVTarget(port: port, host: host), at: index) }
                }
            }
        }
        srv.write(into: &contribution.records, ttl: ttl)
    }

    /// A named, numbered port's SRV owner under `service` (spec §2.3.2)
    /// and its number; nil for any other port.
    fileprivate static func srvPort(_ name: String?, _ proto: String?, _ number: Int?, of service: DNSName) -> (
        owner: DNSName, port: UInt16
    )? {
        guard let name, let owner = ClusterRecords.srvOwner(port: name, protocol: proto, service: service),
            let number = number.flatMap({ UInt16(exactly: $0) })
        else { return nil }
        return (owner, number)
    }

    /// `<a-b-c-d>.<ns>.pod.<zone>` A/AAAA for a pod that exists (`--pods verified`).
    mutating func addPod(_ pod: Pod) {
        for ip in pod.addresses {
            guard let name = try? DNSName(labels: [ip.dashed, pod.metadata.namespace, "pod"], under: domain)
            else { continue }
            add(ResourceRecord(name, ttl: ttl, .address(ip)))
            if options.clientIndex {
                let client = DNSName(validated: [ip.dashed], under: ClusterRecords.clientIndexApex)
                add(ResourceRecord(client, ttl: ttl, .txt([pod.metadata.namespace])))
            }
        }
    }

    private mutating func addPTR(_ ip: IPAddress, to name: DNSName) {
        contribution.pointers.append(Pointer(address: ip, target: name))
    }
}

/// The SRV records of named ports with several targets: each owner with
/// its targets in the order first met, written with equal weights summing
/// to about 100 (RFC 2782), as CoreDNS gives them; two endpoints of one
/// hostname make one target.
private struct SRVSet {
    private var owners: [(owner: DNSName, targets: [SRVTarget])] = []

    /// The owners of `ports` under `service` that have SRV records, each
    /// by its index here, with its port number.
    mutating func owners(of ports: [EndpointPort], under service: DNSName) -> [(index: Int, port: UInt16)] {
        ports.compactMap { port in
            RecordMaker.srvPort(port.name, port.protocol, port.port, of: service).map { (index(of: $0.owner), $0.port) }
        }
    }

    private mutating func index(of owner: DNSName) -> Int {
        if let index = owners.firstIndex(where: { $0.owner == owner }) { return index }
        owners.append((owner, []))
        return owners.count - 1
    }

    mutating func add(_ target: SRVTarget, at index: Int) { owners[index].targets.append(target) }

    func write(into records: inout [ResourceRecord], ttl: UInt32) {
        for (owner, all) in owners where !all.isEmpty {
            let targets = all.sorted().uniqued()
            let weight = UInt16(max(1, 100 / targets.count))
            for target in targets {
                records.append(ResourceRecord(owner, ttl: ttl, .srv(priority: 0, weight: weight, port: target.port, target: target.host)))
            }
        }
    }
}

private struct SRVTarget: Equatable, Comparable {
    var port: UInt16
    var host: DNSName

    /// Any fixed order will do, so names compare as wire bytes, which is
    /// cheaper than the canonical order of RFC 4034 §6.1.
    static func < (lhs: SRVTarget, rhs: SRVTarget) -> Bool {
        lhs.host == rhs.host ? lhs.port < rhs.port : lhs.host.wire.lexicographicallyPrecedes(rhs.host.wire)
    }
}

extension Array where Element: Equatable {
    /// The elements less those equal to the one before (of a sorted array: each once).
    fileprivate func uniqued() -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(count)
        for element in self where result.last != element { result.append(element) }
        return result
    }
}
