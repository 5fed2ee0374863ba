import Dispatch
import Synchronization

/// The cluster's objects, and the answers made of them region by region
/// (see Region): a change recomputes the contributions it touches (a
/// Service with its endpoints, a namespace, a pod, the apex) and notes the
/// regions whose answers may differ; only the objects and small indexes
/// are kept between changes. Pure: no I/O.
public struct ClusterRecordStore: Sendable {
    public private(set) var options: RecordOptions
    public private(set) var objects = ClusterObjects()
    /// What the last changes could not make records of, for the log.
    public private(set) var problems: [String] = []
    let layout: ZoneLayout
    /// The three zones with their SOA only: what every region's zone starts from.
    private(set) var heads: [Zone]
    private var slicesByService: [ObjectKey: OneOrMore<ObjectKey>] = [:]
    /// The EndpointSlices of each ServiceImport (multicluster).
    private var slicesByImport: [ObjectKey: OneOrMore<ObjectKey>] = [:]
    /// Objects per namespace: a namespace exists while it has any.
    private(set) var namespaceObjects: [String: Int] = [:]
    /// `--pods verified`: the pods behind each pod name.
    private(set) var podsByName: [DNSName: Set<ObjectKey>] = [:]
    /// Who gives each PTR name its records, by the address it is the name
    /// of: hundreds of thousands of names in a large cluster, kept without
    /// an allocation each.
    private(set) var addressOwners: [IPAddress: Owners] = [:]
    /// The PTR names and branches right below each reverse branch.
    private(set) var reverseBranches: [DNSName: Int32] = [:]
    /// The ExternalName services whose CNAME leads into each region.
    private(set) var cnameReferrers: [Region: Set<ObjectKey>] = [:]
    /// The Services with records in the k8s_external zones.
    private(set) var externalServices: Set<ObjectKey> = []
    /// The ServiceImports with records in the clusterset zone.
    private(set) var clustersetImports: Set<ObjectKey> = []
    /// Regions to answer again, with names they may have had.
    var pending: [Region: Set<DNSName>] = [:]
    /// The contributions made again since `takeChanges()`, as the objects
    /// are now: the regions to answer again read them rather than make
    /// them once more (a headless service is read by each of its PTR names).
    var recent: [Contributor: Contribution] = [:]

    /// Whether changes have touched any answer since `takeChanges()`.
    public var hasChanges: Bool { !pending.isEmpty }

    public init(options: RecordOptions) {
        self.options = options
        layout = ZoneLayout(
            domain: options.domain, externalZones: options.external?.zones ?? [], clusterset: options.multicluster,
            clientIndex: options.clientIndex)
        heads = []
        heads = makeHeads()
    }

    private func makeHeads() -> [Zone] {
        let soa = SOAData(
            primary: RecordMaker.nsName(options.domain), mailbox: DNSName(validated: ["hostmaster"], under: options.domain),
            serial: options.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: options.ttl)
        return [Zone(apex: options.domain, authoritative: !options.domainFallsThrough, soa: soa, ttl: options.ttl)]
            + ZoneLayout.reverseApexes.map {
                Zone(apex: $0, authoritative: !options.reverseFallsThrough, soa: soa, ttl: options.ttl)
            } + externalHeads() + (options.multicluster.map { [clustersetHead($0)] } ?? [])
            + (options.clientIndex ? [clientIndexHead()] : [])
    }

    /// k8s_external's zones: the SOA names `ns1.<apex>.<zone>` and
    /// `hostmaster.<apex>.<zone>`, as CoreDNS's does.
    private func externalHeads() -> [Zone] {
        guard let external = options.external else { return [] }
        return external.zones.map { zone in
            let soa = SOAData(
                primary: Self.externalNameServer(zone, external), mailbox: DNSName(validated: ["hostmaster", external.apex], under: zone),
                serial: options.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: external.ttl)
            return Zone(apex: zone, authoritative: !external.fallingThrough.contains(zone), soa: soa, ttl: external.ttl)
        }
    }

    /// The clusterset zone, with an SOA like the cluster zone's.
    private func clustersetHead(_ zone: DNSName) -> Zone {
        let soa = SOAData(
            primary: RecordMaker.nsName(zone), mailbox: DNSName(validated: ["hostmaster"], under: zone), serial: options.serial,
            refresh: 7200, retry: 1800, expire: 86400, minimum: options.ttl)
        return Zone(apex: zone, authoritative: true, soa: soa, ttl: options.ttl)
    }

    /// The clients' index: a zone the data plane reads and answers no query from.
    private func clientIndexHead() -> Zone {
        let apex = ClusterRecords.clientIndexApex
        let soa = SOAData(
            primary: apex, mailbox: apex, serial: options.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: options.ttl)
        return Zone(apex: apex, authoritative: true, isInternal: true, soa: soa, ttl: options.ttl)
    }

    static func externalNameServer(_ zone: DNSName, _ external: RecordOptions.ExternalZones) -> DNSName {
        DNSName(validated: ["ns1", external.apex], under: zone)
    }

    /// The regions of the k8s_external zones.
    var externalRegions: [Region] {
        (0..<(options.external?.zones.count ?? 0)).map { .external(ZoneLayout.firstExternal + $0) }
    }

    /// The regions answered whole: the k8s_external zones and the clusterset zone.
    var wholeZoneRegions: [Region] { externalRegions + (options.multicluster == nil ? [] : [.clusterset]) }

    /// The zones' apexes, SOAs and authority, with the rules the data plane
    /// applies on top; their names come region by region.
    public var zoneHeads: ZoneSet {
        var set = ZoneSet(zones: heads)
        if options.pods == .insecure {
            set.podSynthesis = .init(suffix: DNSName(validated: ["pod"], under: options.domain), ttl: options.ttl)
        }
        return set
    }

    /// The SOA serial: a new one changes the apex of every zone; the same
    /// one again changes nothing.
    public mutating func setSerial(_ serial: UInt32) {
        guard serial != options.serial else { return }
        options.serial = serial
        heads = makeHeads()
        for region in [Region.apex, .reverseApex(1), .reverseApex(2)] + wholeZoneRegions {
            pending[region, default: []].insert(name(of: region))
        }
    }

    // MARK: Loading and changing

    /// Loads every object into a store that has none yet (a first load).
    /// The contributions are made a run at a time on two threads, and each
    /// run is indexed here while the next one is made.
    public mutating func load(_ all: ClusterObjects) {
        precondition(objects == ClusterObjects(), "load fills an empty store")
        objects = all
        for (key, slice) in all.endpointSlices {
            if let service = slice.serviceKey { slicesByService.insert(key, at: service) }
            if let imported = slice.importKey { slicesByImport.insert(key, at: imported) }
        }
        for namespace in all.namespaces.keys { namespaceObjects[namespace, default: 0] += 1 }
        for key in all.services.keys { namespaceObjects[key.namespace, default: 0] += 1 }
        for key in all.endpoints.keys { namespaceObjects[key.namespace, default: 0] += 1 }
        for key in all.endpointSlices.keys { namespaceObjects[key.namespace, default: 0] += 1 }
        for key in all.pods.keys { namespaceObjects[key.namespace, default: 0] += 1 }
        problems = []
        var contributors: [Contributor] =
            [.apex] + all.services.keys.map { .service($0) } + all.serviceImports.keys.map { .serviceImport($0) }
        if options.pods == .verified { contributors += all.pods.keys.map { .pod($0) } }
        let runs = stride(from: 0, to: contributors.count, by: 4096).map {
            contributors[$0..<min($0 + 4096, contributors.count)]
        }
        // What contributions read (the objects) stays as it is now; the
        // indexes written below are the store's own, not the snapshot's.
        let snapshot = self
        var made = ContributionsInFlight(snapshot, runs[0]).wait()
        for (number, run) in runs.enumerated() {
            let next = number + 1 < runs.count ? ContributionsInFlight(snapshot, runs[number + 1]) : nil
            for (contributor, contribution) in zip(run, made) {
                problems += contribution.problems
                index(contributor, adding: contribution)
            }
            made = next?.wait() ?? []
        }
        pending = [:]
    }

    /// Applies changes in order; the contributions they touch are made
    /// again from the objects after all of them.
    public mutating func apply(_ changes: [ObjectChange]) {
        var before: [Contributor: Contribution] = [:]
        for change in changes {
            for contributor in contributors(of: change) where before[contributor] == nil {
                before[contributor] = recent[contributor] ?? contribution(contributor)
            }
            applyToObjects(change)
            // The DNS service's external addresses are the k8s_external zones' name server's.
            if case .service(Self.dnsService, _) = change, let external = options.external {
                for region in externalRegions {
                    let server = Self.externalNameServer(name(of: region), external)
                    pending[region, default: []].formUnion([server, server.parent!])
                }
            }
        }
        problems = []
        for (contributor, old) in before {
            let new = contribution(contributor)
            recent[contributor] = new
            problems += new.problems
            guard new != old else { continue }
            index(contributor, removing: old)
            index(contributor, adding: new)
            let oldNames = namesByRegion(of: old)
            for region in regions(of: new).union(oldNames.keys).union(ownRegion(contributor).map { [$0] } ?? []) {
                pending[region, default: []].formUnion(oldNames[region] ?? [])
            }
        }
    }

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
            for imported in Set([objects.endpointSlices[key]?.importKey, new?.importKey].compactMap { $0 }) {
                result.append(.serviceImport(imported))
            }
        case .serviceImport(let key, _):
            result.append(.serviceImport(key))
        case .namespace(let name, _):
            // A Namespace object that comes or goes shows or hides all of its namespace's records.
            guard options.exposure == .namespaceObjects else { break }
            result += objects.services.keys.filter { $0.namespace == name }.map { .service($0) }
            result += objects.serviceImports.keys.filter { $0.namespace == name }.map { .serviceImport($0) }
            if options.pods == .verified { result += objects.pods.keys.filter { $0.namespace == name }.map { .pod($0) } }
        case .pod(let key, _):
            if options.pods == .verified { result.append(.pod(key)) }
        }
        return result
    }

    /// The Service whose cluster IPs are the NS glue.
    static let dnsService = ObjectKey(namespace: "kube-system", name: "kube-dns")

    private mutating func applyToObjects(_ change: ObjectChange) {
        if case .endpointSlice(let key, let new) = change {
            if let service = objects.endpointSlices[key]?.serviceKey { slicesByService.remove(key, at: service) }
            if let service = new?.serviceKey { slicesByService.insert(key, at: service) }
            if let imported = objects.endpointSlices[key]?.importKey { slicesByImport.remove(key, at: imported) }
            if let imported = new?.importKey { slicesByImport.insert(key, at: imported) }
        }
        let existed = objects.apply(change)
        let exists = !change.isDeletion
        guard existed != exists else { return }
        if case .namespace = change, options.exposure == .namespaceObjects { pending[.apex, default: []].formUnion(apexBranches) }
        let count = namespaceObjects[change.namespace, default: 0] + (exists ? 1 : -1)
        namespaceObjects[change.namespace] = count > 0 ? count : nil
        // A namespace that comes or goes changes `svc.<zone>` and `pod.<zone>` too.
        if count == 0 || (count == 1 && exists) { pending[.apex, default: []].formUnion(apexBranches) }
    }

    // MARK: Contributions and their indexes

    func contribution(_ contributor: Contributor) -> Contribution {
        var maker = RecordMaker(options: options)
        switch contributor {
        case .apex:
            maker.addApex(dnsService: objects.services[Self.dnsService])
        case .namespace(let name):
            if !name.isEmpty, namespaceObjects[name] != nil, exposes(name) { maker.addNamespace(name) }
        case .service(let key):
            guard let service = objects.services[key], exposes(key.namespace) else { break }
            let slices = slicesByService[key].map { $0.compactMap { objects.endpointSlices[$0] } } ?? []
            let endpoints = ClusterRecords.endpointAddresses(
                of: service, slices: slices, endpoints: objects.endpoints[key], podNames: options.endpointPodNames)
            if options.ignoreEmptyServices, !service.isExternalName, !service.isHeadless, endpoints.isEmpty { break }
            maker.addService(service, endpoints: endpoints)
        case .pod(let key):
            if let pod = objects.pods[key], exposes(key.namespace) { maker.addPod(pod) }
        case .serviceImport(let key):
            guard let imported = objects.serviceImports[key], exposes(key.namespace), let zone = options.multicluster else { break }
            let slices = slicesByImport[key].map { $0.compactMap { objects.endpointSlices[$0] } } ?? []
            maker.addServiceImport(imported, zone: zone, slices: slices)
        }
        return maker.contribution
    }

    /// Whether a namespace's objects make records (`namespaces`, `namespace_labels`).
    private func exposes(_ namespace: String) -> Bool {
        switch options.exposure {
        case .all: true
        case .listed(let names): names.contains(namespace)
        case .namespaceObjects: objects.namespaces[namespace] != nil
        }
    }

    /// Keeps the indexes of who gives PTR names, pod names and CNAMEs.
    private mutating func index(_ contributor: Contributor, adding made: Contribution) {
        for pointer in made.pointers {
            // An address already owned gains an owner; a new one is a new PTR name.
            if addressOwners.insert(contributor, at: pointer.address) { countBranches(of: pointer.address.reverseName, by: 1) }
        }
        for record in made.records {
            guard case .cname(let target) = record.data, layout.zoneIndex(target) == 0, target.isSubdomain(of: options.domain),
                case .service(let key) = contributor
            else { continue }
            cnameReferrers[layout.region(of: target), default: []].insert(key)
        }
        if case .pod(let key) = contributor {
            for record in made.records { podsByName[record.name, default: []].insert(key) }
        }
        if case .service(let key) = contributor, made.records.contains(where: { layout.isExternal(layout.zoneIndex($0.name)) }) {
            externalServices.insert(key)
        }
        if case .serviceImport(let key) = contributor, !made.records.isEmpty { clustersetImports.insert(key) }
    }

    private mutating func index(_ contributor: Contributor, removing made: Contribution) {
        for pointer in made.pointers {
            if addressOwners.remove(contributor, at: pointer.address) { countBranches(of: pointer.address.reverseName, by: -1) }
        }
        for record in made.records {
            guard case .cname(let target) = record.data, layout.zoneIndex(target) == 0, target.isSubdomain(of: options.domain),
                case .service(let key) = contributor
            else { continue }
            let region = layout.region(of: target)
            cnameReferrers[region]?.remove(key)
            if cnameReferrers[region]?.isEmpty == true { cnameReferrers[region] = nil }
        }
        if case .pod(let key) = contributor {
            for record in made.records {
                podsByName[record.name]?.remove(key)
                if podsByName[record.name]?.isEmpty == true { podsByName[record.name] = nil }
            }
        }
        if case .service(let key) = contributor { externalServices.remove(key) }
        if case .serviceImport(let key) = contributor { clustersetImports.remove(key) }
    }

    /// A PTR name came or went: its branch counts it, and a branch that
    /// comes or goes is counted by the branch above it in turn (a branch
    /// exists while it counts any), so most changes stop at the first.
    private mutating func countBranches(of name: DNSName, by delta: Int32) {
        var branch = name.parent
        while let current = branch, case .reverseBranch = layout.region(of: current) {
            let count = reverseBranches[current, default: 0] + delta
            reverseBranches[current] = count > 0 ? count : nil
            guard count == 0 || (count == 1 && delta > 0) else { return }
            pending[.reverseBranch(current), default: []].insert(current)
            branch = current.parent
        }
    }

    /// The regions a contribution puts names in.
    private func regions(of made: Contribution) -> Set<Region> {
        Set(ownerNames(of: made).map(layout.region(of:)))
    }

    /// The names a contribution gives records to, or makes exist.
    private func ownerNames(of made: Contribution) -> [DNSName] {
        made.records.map(\.name) + made.pointers.map(\.address.reverseName) + made.names
    }

    /// The region a contributor's own names are in, even when it has none
    /// now (a pod's names are its addresses: in no fixed region).
    private func ownRegion(_ contributor: Contributor) -> Region? {
        switch contributor {
        case .apex: return .apex
        case .namespace(let name): return .namespace(name)
        case .service(let key): return .service(key)
        case .serviceImport: return .clusterset
        case .pod: return nil
        }
    }

    /// The names a contribution gave each region, with the empty
    /// non-terminals above them in that region: one pass, each name's
    /// region read once (a pass per region read them all again each time).
    private func namesByRegion(of made: Contribution) -> [Region: Set<DNSName>] {
        var result: [Region: Set<DNSName>] = [:]
        for owner in ownerNames(of: made) {
            let region = layout.region(of: owner)
            var current: DNSName? = owner
            while let name = current, result[region, default: []].insert(name).inserted {
                current = name.parent.flatMap { layout.region(of: $0) == region ? $0 : nil }
            }
        }
        return result
    }

    /// `svc.<zone>` and `pod.<zone>`: they exist while some namespace does.
    private var apexBranches: Set<DNSName> {
        [DNSName(validated: ["svc"], under: options.domain), DNSName(validated: ["pod"], under: options.domain)]
    }

    private func name(of region: Region) -> DNSName {
        switch region {
        case .reverseApex(let zone), .external(let zone): return heads[zone].apex
        default: return heads[0].apex
        }
    }
}

/// Contributions being made on two threads while the caller goes on.
private final class ContributionsInFlight: Sendable {
    private let halves = Mutex<[[Contribution]]>([[], []])
    private let group = DispatchGroup()

    init(_ store: ClusterRecordStore, _ contributors: ArraySlice<Contributor>) {
        let middle = contributors.startIndex + contributors.count / 2
        for (half, range) in [contributors.startIndex..<middle, middle..<contributors.endIndex].enumerated() {
            DispatchQueue.global().async(group: group) {
                let made = contributors[range].map(store.contribution)
                self.halves.withLock { $0[half] = made }
            }
        }
    }

    /// The contributions, in the order of their contributors.
    func wait() -> [Contribution] {
        group.wait()
        return halves.withLock { $0[0] + $0[1] }
    }
}
