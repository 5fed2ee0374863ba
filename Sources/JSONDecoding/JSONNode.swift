/// A value of a JSON text indexed in one pass (`JSONTape`), read where it
/// lies: the API's objects build themselves from it (`JSONDecodable`) by
/// asking for the members they need, and the bytes of the rest (a
/// Kubernetes object's `managedFields`) are looked at once.
///
/// Not `Decodable`'s machinery: through it, each nested object was a boxed
/// container and each generic call a runtime metadata lookup, and all but
/// the indexing took 85% of the samples of decoding an EndpointSlice
/// watch event (`perf`).
///
/// Errors are Foundation's `DecodingError`s with its coding paths, which
/// the objects file and the API client turn into messages naming the
/// field; syntax errors are `JSONSyntaxError`s.
public struct JSONNode: Sendable {
    let document: TapeDocument
    let index: Int

    /// Indexes `bytes`, which must be one JSON value (RFC 8259).
    public init(parsing bytes: some Sequence<UInt8>) throws(JSONSyntaxError) {
        document = TapeDocument(try JSONTape(Array(bytes)))
        index = 0
    }

    private init(_ document: TapeDocument, _ index: Int) {
        self.document = document
        self.index = index
    }

    private var entry: JSONTape.Entry { document.tape.entries[index] }

    public var isNull: Bool { entry.kind == .null }

    /// Where this value is in the document, for errors.
    public var codingPath: [any CodingKey] { document.tape.path(to: index) }

    // MARK: Objects

    /// The member `key` of this object, nil when it has none. A key given
    /// twice takes its last value, as in Go's encoding/json.
    public func member(_ key: String) throws -> JSONNode? {
        guard entry.kind == .object else { throw document.mismatch([String: Any].self, at: index) }
        var wanted = key
        var found: Int?
        var member = index + 1
        let end = Int(entry.end)
        while member < end {
            if document.tape.string(at: member, equals: &wanted) { found = member + 1 }
            member = document.tape.after(member + 1)
        }
        return found.map { JSONNode(document, $0) }
    }

    /// The member `key` as a `T`; a missing one is an error.
    public func decode<T: JSONDecodable>(_ type: T.Type, at key: String) throws -> T {
        guard let value = try member(key) else {
            throw DecodingError.keyNotFound(
                TapeKey(key), .init(codingPath: codingPath, debugDescription: "No value associated with key \(key)."))
        }
        return try T(json: value)
    }

    /// The member `key` as a `T`, nil when it is missing or null.
    public func decodeIfPresent<T: JSONDecodable>(_ type: T.Type, at key: String) throws -> T? {
        guard let value = try member(key), !value.isNull else { return nil }
        return try T(json: value)
    }

    // MARK: Arrays

    /// Each element of this array as a `T`, in order.
    public func elements<T: JSONDecodable>(_ type: T.Type) throws -> [T] {
        guard entry.kind == .array else { throw document.mismatch([T].self, at: index) }
        var result: [T] = []
        result.reserveCapacity(Int(entry.start))
        var element = index + 1
        let end = Int(entry.end)
        while element < end {
            result.append(try T(json: JSONNode(document, element)))
            element = document.tape.after(element)
        }
        return result
    }

    // MARK: Scalars

    public func string() throws -> String {
        guard entry.kind == .string || entry.kind == .escapedString else { throw document.mismatch(String.self, at: index) }
        return document.tape.string(at: index)
    }

    public func bool() throws -> Bool {
        switch entry.kind {
        case .true: return true
        case .false: return false
        default: throw document.mismatch(Bool.self, at: index)
        }
    }

    /// A whole number in range of `T`, also when spelled `1e3` or `80.0`.
    public func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard entry.kind == .number else { throw document.mismatch(type, at: index) }
        let text = document.tape.numberText(at: index)
        if let value = T(text) { return value }
        if let double = Double(text), double.rounded() == double, let value = T(exactly: double) { return value }
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Number \(text) does not fit in \(type)."))
    }
}

/// The tape the values of one document read. A class, so that a value is
/// one reference and an index.
final class TapeDocument: Sendable {
    let tape: JSONTape

    init(_ tape: JSONTape) { self.tape = tape }

    /// The error for a value of the wrong kind, or null where one is needed.
    func mismatch(_ type: Any.Type, at index: Int) -> DecodingError {
        let kind = tape.entries[index].kind
        let context = DecodingError.Context(
            codingPath: tape.path(to: index),
            debugDescription: "Expected to decode \(type) but found \(description(of: kind)) instead.")
        return kind == .null ? .valueNotFound(type, context) : .typeMismatch(type, context)
    }

    private func description(of kind: JSONTape.Kind) -> String {
        switch kind {
        case .object: return "a dictionary"
        case .array: return "an array"
        case .string, .escapedString: return "a string"
        case .number: return "number"
        case .true, .false: return "bool"
        case .null: return "null"
        }
    }
}
