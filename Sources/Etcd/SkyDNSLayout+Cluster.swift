import RecordModel

/// What kube2sky (Kubernetes 1.2) writes for the cluster's objects, one
/// directory at a time: a Service's subtree (`/skydns/<D>/svc/<ns>/<name>`)
/// or a pod address's (`/skydns/<D>/pod/<ns>/<a-b-c-d>`). Endpoints are
/// read as the record model reads them today (EndpointSlices, readiness,
/// publishNotReadyAddresses), where kube2sky read v1 Endpoints.
extension SkyDNSLayout {
    /// The directory owning a key under `domain`'s `svc` or `pod` subtree
    /// (its first three labels there), or nil for any other key.
    public static func ownerDirectory(ofKey key: String, domain: DNSName) -> String? {
        let base = path(of: domain) + "/"
        guard key.hasPrefix(base) else { return nil }
        let parts = key.dropFirst(base.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "svc" || parts[0] == "pod" else { return nil }
        return base + parts.prefix(min(3, parts.count - 1)).joined(separator: "/")
    }

    /// The prefixes of everything kube2sky owns under `domain`.
    public static func ownedPrefixes(domain: DNSName) -> [String] {
        ["svc", "pod"].map { path(of: domain) + "/" + $0 + "/" }
    }

    /// A Service's directory, or nil when its name makes no DNS name.
    public static func directory(ofService key: ObjectKey, domain: DNSName) -> String? {
        (try? DNSName(labels: [key.name, key.namespace, "svc"], under: domain)).map(path(of:))
    }

    /// A pod address's directory.
    public static func directory(ofPodAddress ip: IPAddress, namespace: String, domain: DNSName) -> String? {
        podName(ip, namespace: namespace, domain: domain).map(path(of:))
    }

    /// The keys and values of a Service (none for ExternalName: kube2sky
    /// wrote nothing for them).
    /// - ClusterIP: an A leaf per cluster IP, and per named port an SRV leaf
    ///   at `_port._proto` whose host is the service's name, labelled as the
    ///   first cluster IP's A leaf;
    /// - headless: per published endpoint an A leaf labelled by its
    ///   hostname (a valid label) or else by the hash, and per named port an
    ///   SRV leaf with the same label whose host is `<label>.<service>`.
    public static func keys(
        ofService service: Service, slices: [EndpointSlice], endpoints: Endpoints?, domain: DNSName
    ) -> [String: String] {
        let key = service.metadata.key
        guard !service.isExternalName, let name = try? DNSName(labels: [key.name, key.namespace, "svc"], under: domain)
        else { return [:] }
        var keys: [String: String] = [:]
        if service.isHeadless {
            for endpoint in ClusterRecords.endpointAddresses(of: service, slices: slices, endpoints: endpoints) {
                let address = value(host: endpoint.ip.description)
                let label = endpoint.hostnameLabel ?? leaf(of: address)
                keys[path(of: name) + "/" + label] = address
                guard let host = try? DNSName(labels: [label], under: name) else { continue }
                for port in endpoint.ports {
                    guard let portName = port.name, let number = port.port,
                        let srv = ClusterRecords.srvOwner(port: portName, protocol: port.protocol, service: name)
                    else { continue }
                    keys[path(of: srv) + "/" + label] = value(host: host.description, port: number)
                }
            }
        } else if let first = service.clusterIPs.first {
            for ip in service.clusterIPs {
                let address = value(host: ip.description)
                keys[Self.key(of: name, value: address)] = address
            }
            let label = leaf(of: value(host: first.description))
            for port in service.spec.ports ?? [] {
                guard let portName = port.name, let srv = ClusterRecords.srvOwner(port: portName, protocol: port.protocol, service: name)
                else { continue }
                keys[path(of: srv) + "/" + label] = value(host: name.description, port: port.port)
            }
        }
        return keys
    }

    /// The key and value of a pod address (the same for every pod of the
    /// namespace with that address, as host-network pods share one).
    public static func keys(ofPodAddress ip: IPAddress, namespace: String, domain: DNSName) -> [String: String] {
        guard let name = podName(ip, namespace: namespace, domain: domain) else { return [:] }
        let address = value(host: ip.description)
        return [key(of: name, value: address): address]
    }

    /// `a-b-c-d.<ns>.pod.<domain>`.
    private static func podName(_ ip: IPAddress, namespace: String, domain: DNSName) -> DNSName? {
        try? DNSName(labels: [ip.dashed, namespace, "pod"], under: domain)
    }
}
