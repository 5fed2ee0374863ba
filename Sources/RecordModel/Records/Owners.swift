/// The contributors that give one name its records: nearly always one,
/// kept without an allocation of its own (an index holds one per PTR name,
/// hundreds of thousands in a large cluster).
struct Owners: Sendable, Sequence {
    private var first: Contributor
    private var others: [Contributor] = []

    init(_ owner: Contributor) { first = owner }

    /// Whether one contributor alone gives the name its records.
    var isSingle: Bool { others.isEmpty }

    /// Adds an owner; false when it was one already.
    mutating func insert(_ owner: Contributor) -> Bool {
        guard owner != first, !others.contains(owner) else { return false }
        others.append(owner)
        return true
    }

    /// Takes an owner out; nil when none is left, else the rest.
    func removing(_ owner: Contributor) -> Owners? {
        if owner == first {
            guard let next = others.first else { return nil }
            var rest = Owners(next)
            rest.others = Array(others.dropFirst())
            return rest
        }
        var rest = self
        rest.others.removeAll { $0 == owner }
        return rest
    }

    func makeIterator() -> IndexingIterator<[Contributor]> { ([first] + others).makeIterator() }
}
