/// The zones of a region, to answer its names from.
extension ClusterRecordStore {
    /// Everything the store holds, for a whole table: first every region
    /// but the Services', then the Services in runs, each with the PTR
    /// names only it gives records to, so that no thread waits long for another.
    public struct Contents: TableContents {
        let store: ClusterRecordStore
        let services: [ObjectKey]
        static let servicesPerPart = 1024

        public var heads: ZoneSet { store.zoneHeads }
        public var partCount: Int { 1 + (services.count + Self.servicesPerPart - 1) / Self.servicesPerPart }

        public func forEachName(
            inPart part: Int, _ names: (ZoneNames) throws -> Void, pointers: (PointerName) throws -> Void
        ) rethrows {
            guard part > 0 else { return try store.forEachNonServiceRegion(names) }
            let first = (part - 1) * Self.servicesPerPart
            try store.forEachService(services[first..<min(first + Self.servicesPerPart, services.count)], names, pointers: pointers)
        }
    }

    public var contents: Contents { Contents(store: self, services: Array(objects.services.keys)) }

    private func forEachNonServiceRegion(_ body: (ZoneNames) throws -> Void) rethrows {
        try body(answers(.apex))
        for zone in [1, 2] { try body(answers(.reverseApex(zone))) }
        for region in wholeZoneRegions { try body(answers(region)) }
        for namespace in namespaceObjects.keys { try body(answers(.namespace(namespace))) }
        for name in podsByName.keys { try body(answers(.podName(name))) }
        for (address, owners) in addressOwners where !owners.isSingle { try body(answers(.address(address.reverseName))) }
        for name in reverseBranches.keys { try body(answers(.reverseBranch(name))) }
    }

    private func forEachService(
        _ keys: ArraySlice<ObjectKey>, _ body: (ZoneNames) throws -> Void, pointers: (PointerName) throws -> Void
    ) rethrows {
        let (owners, heads, layout) = (addressOwners, heads, layout)
        for key in keys {
            let made = contribution(.service(key))
            let region = Region.service(key)
            var zone = Zone(emptyLike: heads[0], floor: layout.root(of: region))
            put(made, into: &zone, only: 0)
            chaseCNAMEs(&zone, from: region)
            try body(ZoneNames(zone: zone, names: regionNames(region, zone)))
            try Self.forEachOwnAddress(of: made, owners: owners, ttl: options.ttl, pointers)
        }
    }

    /// The PTR names a Service's contribution alone gives records to
    /// (nearly all), published from its pointers rather than made again
    /// per name. Static, so that no copy of the store is made per Service.
    private static func forEachOwnAddress(
        of made: Contribution, owners: [IPAddress: Owners], ttl: UInt32, _ lone: (PointerName) throws -> Void
    ) rethrows {
        // Most Services have one address, and need no lookup to group by it.
        let grouped = made.pointers.count > 1
        var names: [PointerName] = []
        var positions: [IPAddress: Int] = [:]
        for pointer in made.pointers where owners[pointer.address]?.isSingle == true {
            if grouped, let i = positions[pointer.address] {
                if !names[i].targets.contains(pointer.target) { names[i].targets.append(pointer.target) }
                continue
            }
            if grouped { positions[pointer.address] = names.count }
            names.append(PointerName(name: pointer.address.reverseName, targets: [pointer.target], ttl: ttl))
        }
        for name in names { try lone(name) }
    }

    /// The regions changed since the last call, with those reached through
    /// CNAMEs into them.
    public mutating func takeChanges() -> ZoneChanges {
        var regions = pending
        pending = [:]
        var frontier = Array(regions.keys)
        for _ in 0..<Zone.maxCNAMEChain where !frontier.isEmpty {
            var next: [Region] = []
            for region in frontier {
                for key in cnameReferrers[region] ?? [] where regions[.service(key)] == nil {
                    regions[.service(key)] = []
                    next.append(.service(key))
                }
            }
            frontier = next
        }
        var changes = ZoneChanges()
        for (region, candidates) in regions {
            let answers = answers(region)
            changes.answered.append(answers)
            changes.removed += candidates.subtracting(answers.names)
        }
        recent = [:]
        return changes
    }

    /// Forgets the changes since the last `takeChanges()`, for a caller
    /// that publishes the whole store next.
    public mutating func discardChanges() {
        pending = [:]
        recent = [:]
    }

    /// The whole zones, every contribution in them: what `kube-dns records`
    /// prints, and what the tests hold the regions' answers to.
    public func wholeZones() -> ZoneSet {
        var zones = heads
        var contributors: [Contributor] =
            [.apex] + namespaceObjects.keys.map { .namespace($0) } + objects.services.keys.map { .service($0) }
            + objects.serviceImports.keys.map { .serviceImport($0) }
        if options.pods == .verified { contributors += objects.pods.keys.map { .pod($0) } }
        for contributor in contributors {
            let made = contribution(contributor)
            for record in made.records + made.pointers.map({ $0.record(ttl: options.ttl) }) {
                let index = layout.zoneIndex(record.name)
                if !layout.isExternal(index) { zones[index].add(record) }
            }
            for name in made.names { zones[0].addName(name) }
        }
        for case .external(let index) in externalRegions { fill(&zones[index], .external(index)) }
        var set = zoneHeads
        set.zones = zones
        set.problems = problems
        return set
    }

    // MARK: One region

    func answers(_ region: Region) -> ZoneNames {
        let head = heads[layout.zoneIndex(of: region)]
        var zone: Zone
        switch region {
        case .apex, .reverseApex, .external, .clusterset: zone = head
        default: zone = Zone(emptyLike: head, floor: layout.root(of: region))
        }
        fill(&zone, region)
        chaseCNAMEs(&zone, from: region)
        return ZoneNames(zone: zone, names: regionNames(region, zone))
    }

    /// The region's own records and names.
    private func fill(_ zone: inout Zone, _ region: Region) {
        switch region {
        case .apex:
            put(made(.apex), into: &zone, only: 0)
            if namespaceObjects.keys.contains(where: { !made(.namespace($0)).names.isEmpty }) {
                zone.addName(DNSName(validated: ["svc"], under: options.domain))
                if options.pods != .disabled { zone.addName(DNSName(validated: ["pod"], under: options.domain)) }
            }
        case .namespace(let name):
            put(made(.namespace(name)), into: &zone, only: 0)
        case .service(let key):
            put(made(.service(key)), into: &zone, only: 0)
        case .podName(let name):
            let index = layout.zoneIndex(name)
            for key in podsByName[name] ?? [] { put(made(.pod(key)), into: &zone, only: index) }
        case .reverseApex:
            break
        case .address(let name):
            guard let address = IPAddress(reverseName: name) else { break }
            for owner in addressOwners[address].map(Array.init) ?? [] {
                for pointer in made(owner).pointers where pointer.address == address {
                    zone.add(pointer.record(ttl: options.ttl))
                }
            }
        case .reverseBranch(let name):
            if reverseBranches[name] != nil { zone.addName(name) }
        case .external(let index):
            fillExternal(&zone, index)
        case .clusterset:
            let index = layout.zoneIndex(of: region)
            for key in clustersetImports { put(made(.serviceImport(key)), into: &zone, only: index) }
        }
    }

    /// A k8s_external zone: NS naming `ns1.<apex>.<zone>`, with the DNS
    /// service's external addresses there, and every Service's records.
    private func fillExternal(_ zone: inout Zone, _ index: Int) {
        guard let external = options.external else { return }
        let server = Self.externalNameServer(zone.apex, external)
        zone.add(ResourceRecord(zone.apex, ttl: external.ttl, .ns(server)))
        for text in objects.services[Self.dnsService]?.externalAddresses ?? [] {
            if let address = IPAddress(text) { zone.add(ResourceRecord(server, ttl: external.ttl, .address(address))) }
        }
        for key in externalServices { put(made(.service(key)), into: &zone, only: index) }
    }

    /// The records of the regions in-zone CNAMEs lead to (RFC 1034
    /// §3.6.2: an answer carries the target's records), as far as answers follow them.
    private func chaseCNAMEs(_ zone: inout Zone, from region: Region) {
        guard layout.zoneIndex(of: region) == 0, zone.hasCNAME else { return }
        var visited: Set<Region> = [region]
        var frontier = [region]
        for _ in 0..<Zone.maxCNAMEChain where !frontier.isEmpty {
            var next: [Region] = []
            for current in frontier {
                let inCurrent = layout.membership(current)
                for (name, node) in zone.rrsets where node[.cname] != nil && inCurrent(name) {
                    guard case .cname(let target)? = node[.cname]?.records.first, target.isSubdomain(of: options.domain)
                    else { continue }
                    let targetRegion = layout.region(of: target)
                    if visited.insert(targetRegion).inserted {
                        fill(&zone, targetRegion)
                        next.append(targetRegion)
                    }
                }
            }
            frontier = next
        }
    }

    /// A contribution as the objects are now.
    private func made(_ contributor: Contributor) -> Contribution { recent[contributor] ?? contribution(contributor) }

    private func put(_ made: Contribution, into zone: inout Zone, only index: Int) {
        for record in made.records where layout.zoneIndex(record.name) == index { zone.add(record) }
        for name in made.names { zone.addName(name) }
    }

    private func regionNames(_ region: Region, _ zone: Zone) -> [DNSName] {
        zone.names.filter(layout.membership(region))
    }
}
