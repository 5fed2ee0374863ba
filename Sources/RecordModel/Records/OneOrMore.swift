/// One element kept inline, or more in an array: what an index holds per
/// key when nearly every key has one (the contributors of a PTR name, the
/// EndpointSlices of a Service), for hundreds of thousands of keys in a
/// large cluster, without an allocation each. Of contributors, 24 bytes,
/// where a first one beside an array of the others took 48, and a set
/// took an allocation of its own.
enum OneOrMore<Element: Hashable & Sendable>: Sendable, Sequence {
    case one(Element)
    /// Two or more, in the order they came.
    case many([Element])

    init(_ element: Element) { self = .one(element) }

    /// Whether it holds one element.
    var isSingle: Bool {
        if case .one = self { return true }
        return false
    }

    /// Adds an element; false when it was one already.
    mutating func insert(_ element: Element) -> Bool {
        switch self {
        case .one(let first):
            guard element != first else { return false }
            self = .many([first, element])
        case .many(let all):
            guard !all.contains(element) else { return false }
            self = .many(all + [element])
        }
        return true
    }

    /// Takes an element out; nil when none is left, else the rest.
    func removing(_ element: Element) -> Self? {
        switch self {
        case .one(let first):
            return element == first ? nil : self
        case .many(let all):
            let rest = all.filter { $0 != element }
            return rest.count == 1 ? .one(rest[0]) : .many(rest)
        }
    }

    func makeIterator() -> IndexingIterator<[Element]> {
        switch self {
        case .one(let element): return [element].makeIterator()
        case .many(let all): return all.makeIterator()
        }
    }
}

/// The contributors that give one name its records.
typealias Owners = OneOrMore<Contributor>

extension Dictionary {
    /// Adds `element` to those of `key`; true when the key is new.
    @discardableResult
    mutating func insert<Element>(_ element: Element, at key: Key) -> Bool where Value == OneOrMore<Element> {
        if self[key]?.insert(element) != nil { return false }
        self[key] = OneOrMore(element)
        return true
    }

    /// Takes `element` out of those of `key`; a key left with none goes,
    /// and then the result is true.
    @discardableResult
    mutating func remove<Element>(_ element: Element, at key: Key) -> Bool where Value == OneOrMore<Element> {
        guard let elements = self[key] else { return false }
        self[key] = elements.removing(element)
        return self[key] == nil
    }
}
