/// An object's members, found by key. Objects of the API are small, so a
/// key is looked for by comparing bytes along the members rather than
/// through a dictionary made for each object. A key given twice takes
/// its last value, as in Go's encoding/json.
struct KeyedTapeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let document: TapeDocument
    let index: Int

    var codingPath: [any CodingKey] { document.tape.path(to: index) }

    var allKeys: [Key] {
        var keys: [Key] = []
        forEachMember { key, _ in
            if let decoded = Key(stringValue: document.tape.string(at: key)) { keys.append(decoded) }
        }
        return keys
    }

    private func forEachMember(_ body: (_ key: Int, _ value: Int) -> Void) {
        let tape = document.tape
        var member = index + 1
        let end = Int(tape.entries[index].end)
        while member < end {
            body(member, member + 1)
            member = tape.after(member + 1)
        }
    }

    /// The entry of `key`'s value, if the object has it.
    private func valueIndex(_ key: Key) -> Int? {
        var wanted = key.stringValue
        var found: Int?
        forEachMember { key, value in
            if document.tape.string(at: key, equals: &wanted) { found = value }
        }
        return found
    }

    private func value(_ key: Key) throws -> Int {
        guard let value = valueIndex(key) else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return value
    }

    /// The entry of `key`'s value, nil when it is missing or null.
    private func presentValue(_ key: Key) -> Int? {
        guard let value = valueIndex(key), document.kind(value) != .null else { return nil }
        return value
    }

    func contains(_ key: Key) -> Bool { valueIndex(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { document.kind(try value(key)) == .null }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try document.decodeBool(at: value(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try document.decodeString(at: value(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try document.decodeFloatingPoint(type, at: value(key))
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try document.decodeFloatingPoint(type, at: value(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try document.decodeInteger(type, at: value(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try document.decodeInteger(type, at: value(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try document.decodeInteger(type, at: value(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try document.decodeInteger(type, at: value(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try document.decodeInteger(type, at: value(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try document.decodeInteger(type, at: value(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try document.decodeInteger(type, at: value(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try document.decodeInteger(type, at: value(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try document.decodeInteger(type, at: value(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try document.decodeInteger(type, at: value(key)) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try T(from: TapeDecoder(document: document, index: value(key)))
    }

    // The optional fields the API objects are mostly made of: one search each
    // (the protocol's defaults search three times).
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try presentValue(key).map(document.decodeString(at:))
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try presentValue(key).map(document.decodeBool(at:))
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try presentValue(key).map { try document.decodeInteger(type, at: $0) }
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try presentValue(key).map { try T(from: TapeDecoder(document: document, index: $0)) }
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try TapeDecoder(document: document, index: value(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TapeDecoder(document: document, index: value(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { TapeDecoder(document: document, index: index) }

    func superDecoder(forKey key: Key) throws -> any Decoder { TapeDecoder(document: document, index: try value(key)) }
}
