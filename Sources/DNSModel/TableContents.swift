/// Names to answer, with a zone that holds every record their answers
/// read (their own, and the targets of their CNAMEs and SRVs).
public struct ZoneNames: Sendable {
    public var zone: Zone
    public var names: [DNSName]

    public init(zone: Zone, names: [DNSName]) {
        self.zone = zone
        self.names = names
    }
}

/// A PTR name whose one RRset is its targets, in order: the data plane
/// writes its replies from them, with no zone made for it (nearly every
/// PTR name of a cluster is one).
public struct PointerName: Sendable {
    public var name: DNSName
    public var targets: [DNSName]
    public var ttl: UInt32

    public init(name: DNSName, targets: [DNSName], ttl: UInt32) {
        self.name = name
        self.targets = targets
        self.ttl = ttl
    }
}

/// What changed in a set of zones since its last publication: the names
/// to answer again, and the names that are gone.
public struct ZoneChanges: Sendable {
    public var answered: [ZoneNames] = []
    public var removed: [DNSName] = []

    public init(answered: [ZoneNames] = [], removed: [DNSName] = []) {
        self.answered = answered
        self.removed = removed
    }

    public var isEmpty: Bool { answered.isEmpty && removed.isEmpty }

    /// How many names a delta of these changes writes.
    public var nameCount: Int { answered.reduce(removed.count) { $0 + $1.names.count } }
}

/// Every name of a set of zones, in parts that threads take in turn: what
/// a whole answer table is built from.
///
/// Called from several threads at once, each with its own part; a part's
/// names are handed over in no particular order, each name once overall.
public protocol TableContents: Sendable {
    /// The zones' apexes, SOAs and rules, with no names below the apexes.
    var heads: ZoneSet { get }
    var partCount: Int { get }
    /// Hands over the names of part `part` (0 to `partCount - 1`).
    func forEachName(
        inPart part: Int, _ names: (ZoneNames) throws -> Void, pointers: (PointerName) throws -> Void
    ) rethrows
}

extension ZoneSet: TableContents {
    /// Its zones' heads: each zone with only its SOA.
    public var heads: ZoneSet {
        var set = self
        set.zones = zones.map { Zone(emptyLike: $0) }
        return set
    }

    public var partCount: Int { unsynced ? 0 : zones.count }

    /// Part `part` is zone number `part`, whole.
    public func forEachName(
        inPart part: Int, _ names: (ZoneNames) throws -> Void, pointers: (PointerName) throws -> Void
    ) rethrows {
        try names(ZoneNames(zone: zones[part], names: Array(zones[part].names)))
    }
}
