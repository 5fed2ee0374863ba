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
        var targets: [(host: DNSName, ports: [(name: String?, protocol: String?, port: Int?)])] = []
        if !ips.isEmpty {
            for ip in ips { add(ResourceRecord(name, ttl: external.ttl, .address(ip))) }
            targets = [(name, service.ports.map { ($0.name, $0.protocol, $0.port) })]
        } else if let host = addresses.first, let target = try? DNSName(host) {
            add(ResourceRecord(name, ttl: external.ttl, .cname(target)))
            return
        } else if external.headless, service.isHeadless {
            for endpoint in endpoints {
                guard let host = try? DNSName(labels: [endpoint.label], under: name) else { continue }
                add(ResourceRecord(name, ttl: external.ttl, .address(endpoint.ip)))
                add(ResourceRecord(host, ttl: external.ttl, .address(endpoint.ip)))
                targets.append((host, endpoint.ports.map { ($0.name, $0.protocol, $0.port) }))
            }
        }
        var srv: [DNSName: [RecordData]] = [:]
        var owners: [DNSName] = []
        for (host, ports) in targets {
            for port in ports {
                guard let portName = port.name, let owner = ClusterRecords.srvOwner(port: portName, protocol: port.protocol, service: name),
                    let number = port.port.flatMap({ UInt16(exactly: $0) })
                else { continue }
                if srv[owner] == nil { owners.append(owner) }
                srv[owner, default: []].append(.srv(priority: 0, weight: 0, port: number, target: host))
            }
        }
        // Equal weights summing to about 100, as in the cluster zone.
        for owner in owners {
            let all = srv[owner]!
            for case .srv(let priority, _, let port, let target) in all {
                add(
                    ResourceRecord(
                        owner, ttl: external.ttl,
                        .srv(priority: priority, weight: UInt16(max(1, 100 / all.count)), port: port, target: target)))
            }
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
        for ip in ips {
            add(ResourceRecord(name, ttl: ttl, .address(ip)))
            addPTR(ip, to: name)
        }
        for port in ports {
            guard let portName = port.name, let owner = ClusterRecords.srvOwner(port: portName, protocol: port.protocol, service: name),
                let number = UInt16(exactly: port.port)
            else { continue }
            add(ResourceRecord(owner, ttl: ttl, .srv(priority: 0, weight: 100, port: number, target: name)))
        }
    }

    /// Spec §2.4: A/AAAA per published endpoint, at the service and at the
    /// endpoint's own name; SRV per named port and endpoint; PTR per
    /// endpoint. No endpoint: no records, so the name is NXDOMAIN (§2.4.1).
    private mutating func addHeadless(_ service: Service, name: DNSName, endpoints: [EndpointAddress]) {
        // Each SRV owner (a named port) with its targets, in the order first met.
        var srv: [(owner: DNSName, targets: [SRVTarget])] = []
        // The endpoints of a slice share its ports: their SRV owners are made once.
        var ports: [EndpointPort]?
        var owners: [(index: Int, port: UInt16)] = []
        contribution.records.reserveCapacity(endpoints.count * (2 + (endpoints.first?.ports.count ?? 0)))
        contribution.pointers.reserveCapacity(endpoints.count)
        for endpoint in endpoints {
            guard let host = try? DNSName(labels: [endpoint.label], under: name) else {
                contribution.problems.append("service \(service.metadata.key): endpoint \(endpoint.ip) makes a name over 255 bytes")
                continue
            }
            if endpoint.ports != ports {
                ports = endpoint.ports
                owners = endpoint.ports.compactMap { port in
                    guard let portName = port.name,
                        let owner = ClusterRecords.srvOwner(port: portName, protocol: port.protocol, service: name),
                        let number = port.port.flatMap({ UInt16(exactly: $0) })
                    else { return nil }
                    let index = srv.firstIndex { $0.owner == owner } ?? srv.endIndex
                    if index == srv.endIndex { srv.append((owner, [])) }
                    return (index, number)
                }
            }
            add(ResourceRecord(name, ttl: ttl, .address(endpoint.ip)))
            add(ResourceRecord(host, ttl: ttl, .address(endpoint.ip)))
            addPTR(endpoint.ip, to: host)
            for (index, port) in owners { srv[index].targets.append(SRVTarget(port: port, host: host)) }
        }
        // Equal weights summing to about 100 (RFC 2782), as CoreDNS does;
        // two endpoints of one hostname make one target.
        for (owner, all) in srv {
            let targets = all.sorted().uniqued()
            let weight = UInt16(max(1, 100 / targets.count))
            for target in targets {
                add(ResourceRecord(owner, ttl: ttl, .srv(priority: 0, weight: weight, port: target.port, target: target.host)))
            }
        }
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
        var srv: [(owner: DNSName, port: UInt16, target: DNSName)] = []
        if !imported.isHeadless {
            for ip in imported.ips.compactMap(IPAddress.init) { add(ResourceRecord(name, ttl: ttl, .address(ip))) }
            for port in imported.ports {
                guard let portName = port.name, let owner = ClusterRecords.srvOwner(port: portName, protocol: port.protocol, service: name),
                    let number = UInt16(exactly: port.port)
                else { continue }
                srv.append((owner, number, name))
            }
        } else {
            for slice in slices.sorted(by: { $0.metadata.name < $1.metadata.name }) where slice.addressType != "FQDN" {
                guard let cluster = slice.sourceCluster, DNSName.isLabel(cluster), !cluster.contains(".") else { continue }
                for endpoint in slice.endpoints where endpoint.isReady {
                    for ip in endpoint.addresses.compactMap(IPAddress.init) {
                        let address = EndpointAddress(ip: ip, hostname: endpoint.hostname, ports: slice.ports)
                        guard let host = try? DNSName(labels: [address.label, cluster.lowercased()], under: name) else { continue }
                        add(ResourceRecord(name, ttl: ttl, .address(ip)))
                        add(ResourceRecord(host, ttl: ttl, .address(ip)))
                        for port in slice.ports {
                            guard let portName = port.name,
                                let owner = ClusterRecords.srvOwner(port: portName, protocol: port.protocol, service: name),
                                let number = port.port.flatMap({ UInt16(exactly: $0) })
                            else { continue }
                            srv.append((owner, number, host))
                        }
                    }
                }
            }
        }
        // Equal weights summing to about 100 per owner, as in the cluster zone.
        var perOwner: [DNSName: Int] = [:]
        for entry in srv { perOwner[entry.owner, default: 0] += 1 }
        for entry in srv {
            let weight = UInt16(max(1, 100 / perOwner[entry.owner]!))
            add(ResourceRecord(entry.owner, ttl: ttl, .srv(priority: 0, weight: weight, port: entry.port, target: entry.target)))
        }
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
