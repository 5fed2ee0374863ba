/// How a zone answers a question about a name it holds. The data plane
/// precomputes these answers; they are the one definition of what the
/// server says.
extension Zone {
    /// CNAME chains followed inside the zone, at most (a loop stops earlier).
    static let maxCNAMEChain = 8

    /// The answer to (`name`, `type`); nil when the name does not exist here.
    public func answer(_ name: DNSName, _ type: RecordType) -> Answer? {
        guard contains(name) else { return nil }
        let node = rrsets[name] ?? [:]
        if type == .any {
            guard let first = anyAnswerType(for: name) else { return noData() }
            return positive(rrset(name, first))
        }
        if node[type] != nil { return positive(rrset(name, type)) }
        if node[.cname] != nil { return cnameChain(from: name, type) }
        return noData()
    }

    /// The types of `name` that need an answer of their own; ANY gets the
    /// answer of `anyAnswerType(for:)`, every other type `defaultAnswer(for:)`.
    public func answerTypes(for name: DNSName) -> [RecordType] {
        guard let node = rrsets[name] else { return [] }
        guard let target = cnameTarget(name) else { return node.keys.sorted() }
        var types = Set(node.keys)
        if let targetTypes = rrsets[target]?.keys { types.formUnion(targetTypes) }
        types.formUnion([.a, .aaaa])
        return types.sorted()
    }

    /// RFC 8482 §4.1: ANY is answered with one RRset of the name, the one
    /// of its lowest type (its answer for that type); nil: it has none.
    public func anyAnswerType(for name: DNSName) -> RecordType? { rrsets[name]?.keys.min() }

    /// The answer for types without one of their own: NODATA, or the CNAME.
    public func defaultAnswer(for name: DNSName) -> Answer {
        if let rr = rrset(name, .cname).first { return Answer(.noError, answer: [rr]) }
        return noData()
    }

    /// Whether `defaultAnswer(for:)` is NODATA: the name has no CNAME.
    public func defaultIsNoData(for name: DNSName) -> Bool { rrsets[name]?[.cname] == nil }

    /// RFC 2308 §2.2: NOERROR, no answer, the SOA in authority.
    func noData() -> Answer { Answer(.noError, authority: [soa]) }

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
