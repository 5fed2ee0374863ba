/// A type that builds itself from a `JSONNode`.
public protocol JSONDecodable {
    init(json: JSONNode) throws
}

extension String: JSONDecodable {
    public init(json: JSONNode) throws { self = try json.string() }
}

extension Bool: JSONDecodable {
    public init(json: JSONNode) throws { self = try json.bool() }
}

extension Int: JSONDecodable {
    public init(json: JSONNode) throws { self = try json.integer(Int.self) }
}

extension Array: JSONDecodable where Element: JSONDecodable {
    public init(json: JSONNode) throws { self = try json.elements(Element.self) }
}

extension JSONNode {
    /// A whole document as a `T`.
    public static func decode<T: JSONDecodable>(_ type: T.Type, from bytes: some Sequence<UInt8>) throws -> T {
        try T(json: JSONNode(parsing: bytes))
    }
}

extension JSONNode: JSONDecodable {
    /// A member kept as it is, for its own members to be read.
    public init(json: JSONNode) { self = json }
}
