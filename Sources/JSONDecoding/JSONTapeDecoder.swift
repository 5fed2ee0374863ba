/// Decodes `Decodable` types from JSON, as Foundation's `JSONDecoder`
/// does, with the same `DecodingError`s and coding paths, at a fraction
/// of its cost: the text is indexed in one pass (`JSONTape`), and each
/// value is read only when a type asks for it. Foundation's decoder spent
/// about 0.3 ms on one EndpointSlice watch event (`perf`), a fifth of
/// what an update cost kube-dns.
///
/// Syntax errors are `JSONSyntaxError`s. Numbers decode to integer types
/// when they are whole and in range.
public struct JSONTapeDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from bytes: some Sequence<UInt8>) throws -> T {
        try T(from: TapeDecoder(document: TapeDocument(try JSONTape(Array(bytes))), index: 0))
    }
}

/// The tape every container of one decode reads.
final class TapeDocument {
    let tape: JSONTape

    init(_ tape: JSONTape) { self.tape = tape }

    func kind(_ index: Int) -> JSONTape.Kind { tape.entries[index].kind }

    /// Errors for a value of the wrong kind, or null where one is needed.
    func mismatch(_ type: Any.Type, at index: Int) -> DecodingError {
        let context = DecodingError.Context(
            codingPath: tape.path(to: index),
            debugDescription: "Expected to decode \(type) but found \(description(of: kind(index))) instead.")
        return kind(index) == .null ? .valueNotFound(type, context) : .typeMismatch(type, context)
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

    func decodeString(at index: Int) throws -> String {
        guard kind(index) == .string || kind(index) == .escapedString else { throw mismatch(String.self, at: index) }
        return tape.string(at: index)
    }

    func decodeBool(at index: Int) throws -> Bool {
        switch kind(index) {
        case .true: return true
        case .false: return false
        default: throw mismatch(Bool.self, at: index)
        }
    }

    func decodeInteger<T: FixedWidthInteger>(_ type: T.Type, at index: Int) throws -> T {
        guard kind(index) == .number else { throw mismatch(type, at: index) }
        let text = tape.numberText(at: index)
        if let value = T(text) { return value }
        // 1e3 or 80.0: whole, in another spelling.
        if let double = Double(text), double.rounded() == double, let value = T(exactly: double) { return value }
        throw DecodingError.dataCorrupted(
            .init(codingPath: tape.path(to: index), debugDescription: "Number \(text) does not fit in \(type)."))
    }

    func decodeFloatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(_ type: T.Type, at index: Int) throws -> T {
        guard kind(index) == .number, let value = T(String(tape.numberText(at: index))) else {
            throw mismatch(type, at: index)
        }
        return value
    }
}

/// A decoder at one value of the tape; also its single-value container.
struct TapeDecoder: Decoder, SingleValueDecodingContainer {
    let document: TapeDocument
    let index: Int

    var codingPath: [any CodingKey] { document.tape.path(to: index) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard document.kind(index) == .object else { throw document.mismatch([String: Any].self, at: index) }
        return KeyedDecodingContainer(KeyedTapeContainer<Key>(document: document, index: index))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard document.kind(index) == .array else { throw document.mismatch([Any].self, at: index) }
        return UnkeyedTapeContainer(document: document, index: index)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { document.kind(index) == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try document.decodeBool(at: index) }
    func decode(_ type: String.Type) throws -> String { try document.decodeString(at: index) }
    func decode(_ type: Double.Type) throws -> Double { try document.decodeFloatingPoint(type, at: index) }
    func decode(_ type: Float.Type) throws -> Float { try document.decodeFloatingPoint(type, at: index) }
    func decode(_ type: Int.Type) throws -> Int { try document.decodeInteger(type, at: index) }
    func decode(_ type: Int8.Type) throws -> Int8 { try document.decodeInteger(type, at: index) }
    func decode(_ type: Int16.Type) throws -> Int16 { try document.decodeInteger(type, at: index) }
    func decode(_ type: Int32.Type) throws -> Int32 { try document.decodeInteger(type, at: index) }
    func decode(_ type: Int64.Type) throws -> Int64 { try document.decodeInteger(type, at: index) }
    func decode(_ type: UInt.Type) throws -> UInt { try document.decodeInteger(type, at: index) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try document.decodeInteger(type, at: index) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try document.decodeInteger(type, at: index) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try document.decodeInteger(type, at: index) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try document.decodeInteger(type, at: index) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }
}
