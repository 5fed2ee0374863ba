/// How a zone answers a question about a name it holds. The data plane
/// precomputes these answers; they are the one definition of what the
/// server says.
extension Zone {
    /// CNAME chains followed inside the zone, at most (a loop stops earlier).
    public static let maxCNAMEChain = 8

    /// What the data plane keeps of a name (see `answers(for:)`).
    public struct NameAnswers: Sendable {
        /// The answer for each type that needs one of its own.
        public var byType: [(type: RecordType, answer: Answer)] = []
        /// The answer for every other type: the CNAME, or nil for NODATA.
        public var otherTypes: Answer?
        /// RFC 8482 §4.1: ANY is answered with one RRset of the name, the
        /// one of its lowest type (its answer for that type); nil: it has none.
        public var any: RecordType?
    }

    /// The answer to (`name`, `type`); nil when the name does not exist here.
    public func answer(_ name: DNSName, _ type: RecordType) -> Answer? {
        guard contains(name) else { return nil }
        return answer(name, rrsets[name] ?? [:], type)
    }

    /// Every answer of `name`, from one lookup of it (a type at a time
    /// looks it up several times per type); nil when it does not exist here.
    public func answers(for name: DNSName) -> NameAnswers? {
        guard contains(name) else { return nil }
        var result = NameAnswers()
        guard let node = rrsets[name] else { return result }
        for type in answerTypes(node) { result.byType.append((type, answer(name, node, type))) }
        if let cname = node[.cname], let target = cname.records.first {
            result.otherTypes = Answer(.noError, answer: [ResourceRecord(name, ttl: cname.ttl, target)])
        }
        result.any = node.keys.min()
        return result
    }

    private func answer(_ name: DNSName, _ node: [RecordType: RRSet], _ type: RecordType) -> Answer {
        if type == .any {
            guard let first = node.keys.min() else { return noData() }
            return positive(records(name, node[first]!))
        }
        if let rrset = node[type] { return positive(records(name, rrset)) }
        if node[.cname] != nil { return cnameChain(from: name, type) }
        return noData()
    }

    /// The types of a name that need an answer of their own: those it
    /// has, and behind a CNAME those its target has, and A and AAAA
    /// (which a forwarder may add for a target outside the zone).
    private func answerTypes(_ node: [RecordType: RRSet]) -> [RecordType] {
        guard case .cname(let target)? = node[.cname]?.records.first else { return node.keys.sorted() }
        var types = Set(node.keys)
        if let targetTypes = rrsets[target]?.keys { types.formUnion(targetTypes) }
        types.formUnion([.a, .aaaa])
        return types.sorted()
    }

    /// RFC 2308 §2.2: NOERROR, no answer, the SOA in authority.
    public func noData() -> Answer { Answer(.noError, authority: [soa]) }

    /// An RRset, with the addresses of the names it points at (RFC 2782).
    private func positive(_ records: [ResourceRecord]) -> Answer {
        var additional: [ResourceRecord] = []
        var seen: Set<DNSName> = []
        for record in records {
            guard let target = record.data.target, seen.insert(target).inserted else { continue }
            additional += rrset(target, .a)
            additional += rrset(target, .aaaa)
        }
        return Answer(.noError, answer: records, additional: additional)
    }

    private func cnameTarget(_ name: DNSName) -> DNSName? {
        if case .cname(let target)? = rrsets[name]?[.cname]?.records.first { return target }
        return nil
    }

    /// RFC 1034 §3.6.2: the CNAME, then what its target has of the type,
    /// followed within this zone. A target outside it ends the chain.
    private func cnameChain(from name: DNSName, _ type: RecordType) -> Answer {
        var answer: [ResourceRecord] = []
        var current = name
        var visited: Set<DNSName> = [name]
        for _ in 0..<Self.maxCNAMEChain {
            guard let target = cnameTarget(current) else { break }
            answer += rrset(current, .cname)
            guard target.isSubdomain(of: apex), visited.insert(target).inserted else { break }
            if rrsets[target]?[type] != nil {
                answer += rrset(target, type)
                break
            }
            current = target
        }
        return Answer(.noError, answer: answer)
    }
}

extension ZoneSet {
    /// What the server answers for (`name`, `type`) from its records:
    /// the zone's answer, NXDOMAIN with the SOA for a missing name in an
    /// authoritative zone, REFUSED for a name that is not ours. Pod
    /// synthesis is applied by the data plane and not modelled here.
    public func answer(_ name: DNSName, _ type: RecordType) -> Answer {
        guard let zone = zone(for: name) else { return Answer(.refused) }
        if unsynced { return Answer(.servFail) }
        if let answer = zone.answer(name, type) { return answer }
        return zone.authoritative ? Answer(.nxDomain, authority: [zone.soa]) : Answer(.refused)
    }
}
