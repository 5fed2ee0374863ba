/// The cluster's objects and the zones made of them, kept up to date change
/// by change: a change recomputes the contributions it touches (a Service
/// with its endpoints, a namespace, a pod, the apex) and nothing else, and
/// the zones note which names' answers it changed. Pure: no I/O.
public struct ClusterRecordStore: Sendable {
    public private(set) var options: RecordOptions
    public private(set) var objects = ClusterObjects()
    /// The cluster zone, then the IPv4 and IPv6 reverse zones.
    public private(set) var zones: [Zone]
    /// What the last changes could not make records of, for the log.
    public private(set) var problems: [String] = []
    private var slicesByService: [ObjectKey: Set<ObjectKey>] = [:]
    /// Objects per namespace: a namespace exists while it has any.
    private var namespaceObjects: [String: Int] = [:]

    public init(options: RecordOptions) {
        self.options = options
        let domain = options.domain
        let soa = Self.soa(options)
        zones = [
            Zone(apex: domain, authoritative: true, soa: soa, ttl: options.ttl),
            Zone(apex: DNSName(validated: ["in-addr", "arpa"]), authoritative: false, soa: soa, ttl: options.ttl),
            Zone(apex: DNSName(validated: ["ip6", "arpa"]), authoritative: false, soa: soa, ttl: options.ttl),
        ]
        put(contribution(.apex))
    }

    private static func soa(_ options: RecordOptions) -> SOAData {
        SOAData(
            primary: RecordMaker.nsName(options.domain), mailbox: DNSName(validated: ["hostmaster"], under: options.domain),
            serial: options.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: options.ttl)
    }

    /// The zones with the rules the data plane applies on top.
    public var zoneSet: ZoneSet {
        var set = ZoneSet(zones: zones)
        if options.pods == .insecure {
            set.podSynthesis = .init(suffix: DNSName(validated: ["pod"], under: options.domain), ttl: options.ttl)
        }
        set.problems = problems
        return set
    }

    /// A new SOA serial: the apex of every zone changes.
    public mutating func setSerial(_ serial: UInt32) {
        options.serial = serial
        for index in zones.indices {
            zones[index].replaceSOA(ResourceRecord(zones[index].apex, ttl: options.ttl, .soa(Self.soa(options))))
        }
    }

    /// Loads every object into a store that has none yet (a first load):
    /// the same records as applying them one by one, without noting what
    /// changed.
    public mutating func load(_ all: ClusterObjects) {
        precondition(objects == ClusterObjects(), "load fills an empty store")
        let apexBefore = contribution(.apex)
        objects = all
        slicesByService = [:]
        namespaceObjects = [:]
        for (key, slice) in all.endpointSlices {
            if let service = slice.serviceKey { slicesByService[service, default: []].insert(key) }
        }
        for namespace in all.namespaces.keys { namespaceObjects[namespace, default: 0] += 1 }
        for key in all.services.keys { namespaceObjects[key.namespace, default: 0] += 1 }
        for key in all.endpoints.keys { namespaceObjects[key.namespace, default: 0] += 1 }
        for key in all.endpointSlices.keys { namespaceObjects[key.namespace, default: 0] += 1 }
        for key in all.pods.keys { namespaceObjects[key.namespace, default: 0] += 1 }
        problems = []
        put(contribution(.apex), replacing: apexBefore)
        for namespace in namespaceObjects.keys.sorted() { put(contribution(.namespace(namespace))) }
        for key in all.services.keys.sorted() { put(contribution(.service(key))) }
        if options.pods == .verified {
            for key in all.pods.keys { put(contribution(.pod(key))) }
        }
        for index in zones.indices { _ = zones[index].takeChangedNames() }
    }

    /// Applies changes in order; the contributions they touch are made
    /// again from the objects after all of them.
    public mutating func apply(_ changes: [ObjectChange]) {
        var before: [Contributor: Contribution] = [:]
        for change in changes {
            for contributor in contributors(of: change) where before[contributor] == nil {
                before[contributor] = contribution(contributor)
            }
            applyToObjects(change)
        }
        problems = []
        for (contributor, old) in before {
            put(contribution(contributor), replacing: old)
        }
    }

    /// The names whose answers changed since the last call, per zone (in
    /// the order of `zones`).
    public mutating func takeChangedNames() -> [Set<DNSName>] {
        zones.indices.map { zones[$0].takeChangedNames() }
    }

    // MARK: Objects

    /// Whose records depend on the object a change replaces or removes.
    private func contributors(of change: ObjectChange) -> [Contributor] {
        var result: [Contributor] = [.namespace(change.namespace)]
        switch change {
        case .service(let key, _), .endpoints(let key, _):
            result.append(.service(key))
            if key == Self.dnsService { result.append(.apex) }
        case .endpointSlice(let key, let new):
            for service in Set([objects.endpointSlices[key]?.serviceKey, new?.serviceKey].compactMap { $0 }) {
                result.append(.service(service))
            }
        case .namespace: break
        case .pod(let key, _):
            if options.pods == .verified { result.append(.pod(key)) }
        }
        return result
    }

    /// The Service whose cluster IPs are the NS glue.
    static let dnsService = ObjectKey(namespace: "kube-system", name: "kube-dns")

    private mutating func applyToObjects(_ change: ObjectChange) {
        let existed: Bool
        let exists: Bool
        switch change {
        case .service(let key, let new):
            existed = objects.services.updateOrRemove(new, forKey: key)
            exists = new != nil
        case .endpoints(let key, let new):
            existed = objects.endpoints.updateOrRemove(new, forKey: key)
            exists = new != nil
        case .endpointSlice(let key, let new):
            if let service = objects.endpointSlices[key]?.serviceKey {
                slicesByService[service]?.remove(key)
                if slicesByService[service]?.isEmpty == true { slicesByService[service] = nil }
            }
            if let service = new?.serviceKey { slicesByService[service, default: []].insert(key) }
            existed = objects.endpointSlices.updateOrRemove(new, forKey: key)
            exists = new != nil
        case .namespace(let name, let new):
            existed = objects.namespaces.updateOrRemove(new, forKey: name)
            exists = new != nil
        case .pod(let key, let new):
            existed = objects.pods.updateOrRemove(new, forKey: key)
            exists = new != nil
        }
        if existed != exists {
            let count = namespaceObjects[change.namespace, default: 0] + (exists ? 1 : -1)
            namespaceObjects[change.namespace] = count > 0 ? count : nil
        }
    }

    // MARK: Records

    private func contribution(_ contributor: Contributor) -> Contribution {
        var maker = RecordMaker(options: options)
        switch contributor {
        case .apex:
            maker.addApex(dnsService: objects.services[Self.dnsService])
        case .namespace(let name):
            if !name.isEmpty, namespaceObjects[name] != nil { maker.addNamespace(name) }
        case .service(let key):
            guard let service = objects.services[key] else { break }
            let slices = (slicesByService[key] ?? []).compactMap { objects.endpointSlices[$0] }
            maker.addService(
                service, endpoints: ClusterRecords.endpointAddresses(of: service, slices: slices, endpoints: objects.endpoints[key]))
        case .pod(let key):
            if let pod = objects.pods[key] { maker.addPod(pod) }
        }
        return maker.contribution
    }

    /// Swaps one contribution for another in the zones.
    private mutating func put(_ new: Contribution, replacing old: Contribution = Contribution()) {
        problems += new.problems
        guard new != old else { return }
        for record in old.records { zones[zoneIndex(record.name)].remove(record) }
        for name in old.names { zones[0].removeName(name) }
        for record in new.records { zones[zoneIndex(record.name)].add(record) }
        for name in new.names { zones[0].addName(name) }
    }

    /// Reverse names go to their reverse zone, every other name to the cluster zone.
    private func zoneIndex(_ name: DNSName) -> Int {
        if name.isSubdomain(of: zones[1].apex) { return 1 }
        if name.isSubdomain(of: zones[2].apex) { return 2 }
        return 0
    }
}

extension Dictionary {
    /// Stores or (for nil) removes; returns whether the key had a value.
    fileprivate mutating func updateOrRemove(_ value: Value?, forKey key: Key) -> Bool {
        if let value { return updateValue(value, forKey: key) != nil }
        return removeValue(forKey: key) != nil
    }
}
