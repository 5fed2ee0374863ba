/// The contributors that give one name its records: nearly always one,
/// kept inline. An index holds one per PTR name, hundreds of thousands in
/// a large cluster: as an enum 40 bytes, where a first owner beside an
/// array of the others took 48.
enum Owners: Sendable, Sequence {
    case one(Contributor)
    /// Two or more, in the order they came.
    case many([Contributor])

    init(_ owner: Contributor) { self = .one(owner) }

    /// Whether one contributor alone gives the name its records.
    var isSingle: Bool {
        if case .one = self { return true }
        return false
    }

    /// Adds an owner; false when it was one already.
    mutating func insert(_ owner: Contributor) -> Bool {
        switch self {
        case .one(let first):
            guard owner != first else { return false }
            self = .many([first, owner])
        case .many(let all):
            guard !all.contains(owner) else { return false }
            self = .many(all + [owner])
        }
        return true
    }

    /// Takes an owner out; nil when none is left, else the rest.
    func removing(_ owner: Contributor) -> Owners? {
        switch self {
        case .one(let first):
            return owner == first ? nil : self
        case .many(let all):
            let rest = all.filter { $0 != owner }
            return rest.count == 1 ? .one(rest[0]) : .many(rest)
        }
    }

    func makeIterator() -> IndexingIterator<[Contributor]> {
        switch self {
        case .one(let owner): return [owner].makeIterator()
        case .many(let all): return all.makeIterator()
        }
    }
}
