/// An array's elements, in order.
struct UnkeyedTapeContainer: UnkeyedDecodingContainer {
    let document: TapeDocument
    let index: Int
    /// The entry of the next element.
    private var next: Int
    private(set) var currentIndex = 0

    init(document: TapeDocument, index: Int) {
        self.document = document
        self.index = index
        next = index + 1
    }

    var codingPath: [any CodingKey] { document.tape.path(to: index) }
    var count: Int? { Int(document.tape.entries[index].start) }
    var isAtEnd: Bool { currentIndex >= count! }

    /// The next element's entry, stepped over.
    private mutating func take(_ type: Any.Type) throws -> Int {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                .init(codingPath: codingPath + [TapeKey(currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        let element = next
        next = document.tape.after(element)
        currentIndex += 1
        return element
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, document.kind(next) == .null else { return false }
        _ = try take(Never.self)
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try document.decodeBool(at: take(type)) }
    mutating func decode(_ type: String.Type) throws -> String { try document.decodeString(at: take(type)) }
    mutating func decode(_ type: Double.Type) throws -> Double { try document.decodeFloatingPoint(type, at: take(type)) }
    mutating func decode(_ type: Float.Type) throws -> Float { try document.decodeFloatingPoint(type, at: take(type)) }
    mutating func decode(_ type: Int.Type) throws -> Int { try document.decodeInteger(type, at: take(type)) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try document.decodeInteger(type, at: take(type)) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try document.decodeInteger(type, at: take(type)) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try document.decodeInteger(type, at: take(type)) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try document.decodeInteger(type, at: take(type)) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try document.decodeInteger(type, at: take(type)) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try document.decodeInteger(type, at: take(type)) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try document.decodeInteger(type, at: take(type)) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try document.decodeInteger(type, at: take(type)) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try document.decodeInteger(type, at: take(type)) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: TapeDecoder(document: document, index: take(type)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try TapeDecoder(document: document, index: take([String: Any].self)).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try TapeDecoder(document: document, index: take([Any].self)).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { TapeDecoder(document: document, index: try take(Any.self)) }
}
