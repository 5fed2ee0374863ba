import Foundation
import JSONDecoding
import TestSupport
import Testing

/// A shape with every kind of field the API objects have, read both by
/// `JSONNode` and, for reference, by Foundation's `JSONDecoder`.
private struct Object: Decodable, JSONDecodable, Equatable {
    var name: String
    var count: Int
    var flag: Bool?
    var labels: [String: String]?
    var items: [Item]
    var nested: [[Int]]?
    var missing: String?

    private enum CodingKeys: String, CodingKey { case name, count, flag, labels, items, nested, missing }

    init(json: JSONNode) throws {
        name = try json.decode(String.self, at: "name")
        count = try json.decode(Int.self, at: "count")
        flag = try json.decodeIfPresent(Bool.self, at: "flag")
        labels = try json.decodeIfPresent(JSONNode.self, at: "labels").map { map in
            try ["k", ""].reduce(into: [:]) { found, key in found[key] = try map.decodeIfPresent(String.self, at: key) }
        }
        items = try json.decode([Item].self, at: "items")
        nested = try json.decodeIfPresent([[Int]].self, at: "nested")
        missing = try json.decodeIfPresent(String.self, at: "missing")
    }

    struct Item: Decodable, JSONDecodable, Equatable {
        var ip: String
        var port: UInt16?
        var ready: Bool?

        private enum CodingKeys: String, CodingKey { case ip, port, ready }

        init(json: JSONNode) throws {
            ip = try json.decode(String.self, at: "ip")
            port = try json.member("port").flatMap { $0.isNull ? nil : try $0.integer(UInt16.self) }
            ready = try json.decodeIfPresent(Bool.self, at: "ready")
        }
    }
}

@Suite struct JSONNodeTests {
    static let documents = [
        #"{"name":"a","count":1,"items":[]}"#,
        #" { "name" : "web" , "count" : -42 , "ratio" : 1.5e3 , "flag" : true , "items" : [ { "ip" : "10.0.0.1" , "port" : 80 } , { "ip" : "::1" , "ready" : false } ] } "#,
        #"{"name":"\u00e9\ud83d\ude00\n\t\"\\\/","count":0,"labels":{"k":"v","":"empty"},"items":[],"nested":[[1,2],[],[3]]}"#,
        #"{"name":"x","count":7,"items":[{"ip":"a","port":null,"ready":null}],"missing":null,"extra":{"deep":[{"a":[1,{"b":null}]}]}}"#,
        #"{"managedFields":[{"manager":"kube-controller-manager","fieldsV1":{"f:metadata":{}}}],"name":"skip","count":3,"items":[]}"#,
    ]

    @Test(arguments: documents)
    func readsAsFoundationDecodes(_ text: String) throws {
        let ours = try JSONNode.decode(Object.self, from: text.utf8)
        let foundation = try JSONDecoder().decode(Object.self, from: Data(text.utf8))
        #expect(ours == foundation)
    }

    @Test func escapesAndUnicode() throws {
        let text = #"["\u00e9", "\ud83d\ude00", "\ud800x", "a\/b", "\"q\"", "é😀", "\u0000"]"#
        let strings = try JSONNode.decode([String].self, from: text.utf8)
        #expect(strings == ["é", "😀", "\u{FFFD}x", "a/b", "\"q\"", "é😀", "\u{0}"])
    }

    /// As in Go's encoding/json, which the API server's objects come
    /// from (Foundation takes the first).
    @Test func aKeyGivenTwiceTakesItsLastValue() throws {
        let text = #"{"name":"dup","count":1,"count":2,"items":[]}"#
        #expect(try JSONNode.decode(Object.self, from: text.utf8).count == 2)
    }

    @Test func aNumberOutOfRangeNamesItsField() {
        let text = #"{"name":"a","count":1,"items":[{"ip":"a","port":70000}]}"#
        #expect {
            try JSONNode.decode(Object.self, from: text.utf8)
        } throws: { error in
            guard case .dataCorrupted(let context) = error as? DecodingError else { return false }
            return context.codingPath.map(\.stringValue) == ["items", "Index 0", "port"]
        }
    }

    @Test func wholeNumbers() throws {
        #expect(
            try JSONNode.decode([Int].self, from: "[0, -1, 1e3, 80.0, 9223372036854775807]".utf8)
                == [0, -1, 1000, 80, Int.max])
        #expect(throws: DecodingError.self) { try JSONNode.decode(Int.self, from: "1.5".utf8) }
        #expect(throws: DecodingError.self) { try JSONNode(parsing: "256".utf8).integer(UInt8.self) }
        #expect(throws: DecodingError.self) { try JSONNode.decode(Int.self, from: "9223372036854775808".utf8) }
        #expect(throws: DecodingError.self) { try JSONNode.decode(Int.self, from: #""1""#.utf8) }
    }

    /// A missing member and a null one are both absent to
    /// `decodeIfPresent`; only a missing one is absent to `member`.
    @Test func missingAndNullMembers() throws {
        let value = try JSONNode(parsing: #"{"a":null,"b":"x"}"#.utf8)
        #expect(try value.decodeIfPresent(String.self, at: "a") == nil)
        #expect(try value.decodeIfPresent(String.self, at: "c") == nil)
        #expect(try value.decodeIfPresent(String.self, at: "b") == "x")
        #expect(try value.member("a")?.isNull == true)
        #expect(try value.member("c") == nil)
        #expect(throws: DecodingError.self) { try value.decode(String.self, at: "a") }
        #expect(throws: DecodingError.self) { try JSONNode(parsing: "[]".utf8).member("a") }
    }

    static let malformed = [
        "", " ", "{", "}", "[", "]", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\"}", "{\"a\" 1}", "{a:1}", "{'a':1}",
        "[1 2]", "\"abc", "\"a\\x\"", "\"a\\u12\"", "\"a\nb\"", "01", "-", "1.", ".5", "1e", "+1", "tru", "nul",
        "True", "[1]]", "{} {}", "[\"a\"]x", "NaN", "[Infinity]", "\"\\", "{\"a\":}", "[\"a\":1]",
    ]

    @Test(arguments: malformed)
    func malformedTextIsASyntaxError(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONNode(parsing: text.utf8) }
        if !Self.isKnownDifference(Array(text.utf8)) {
            #expect(throws: (any Error).self) {
                try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
            }
        }
    }

    /// Where RFC 8259 and Go part from Foundation's parser: it takes a
    /// comma before a closing bracket, which the RFC's grammar has not,
    /// and refuses an unpaired surrogate escape, which Go reads as U+FFFD.
    static func isKnownDifference(_ text: [UInt8]) -> Bool {
        let string = String(decoding: text, as: UTF8.self)
        return string.contains(try! Regex(#",\s*[\]}]"#)) || string.contains(try! Regex(#"\\u[dD][89a-fA-F]"#))
    }

    @Test func nestingTooDeepIsRefusedNotFollowed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONNode(parsing: deep.utf8) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: Never.self) { try JSONNode(parsing: fine.utf8) }
    }

    /// Errors carry Foundation's kinds and coding paths, which the objects
    /// file and the API client turn into messages naming the field.
    @Test(arguments: [
        #"{"count":1,"items":[]}"#,
        #"{"name":"a","count":"1","items":[]}"#,
        #"{"name":"a","count":1,"items":[{"ip":"a"},{"ip":null}]}"#,
        #"{"name":"a","count":1,"items":{}}"#,
        #"{"name":"a","count":1,"items":[],"nested":[[1],[true]]}"#,
        #"[]"#,
    ])
    func errorsAreFoundationsWithTheSamePath(_ text: String) {
        func failure(_ decode: () throws -> Object) -> (kind: String, path: [String])? {
            do {
                _ = try decode()
                return nil
            } catch let error as DecodingError {
                switch error {
                case .keyNotFound(let key, let context): return ("keyNotFound", context.codingPath.map(\.stringValue) + [key.stringValue])
                case .typeMismatch(_, let context): return ("typeMismatch", context.codingPath.map(\.stringValue))
                case .valueNotFound(_, let context): return ("valueNotFound", context.codingPath.map(\.stringValue))
                case .dataCorrupted(let context): return ("dataCorrupted", context.codingPath.map(\.stringValue))
                @unknown default: return ("unknown", [])
                }
            } catch {
                return ("other", [])
            }
        }
        let ours = failure { try JSONNode.decode(Object.self, from: text.utf8) }
        let foundation = failure { try JSONDecoder().decode(Object.self, from: Data(text.utf8)) }
        #expect(ours != nil)
        #expect(ours?.kind == foundation?.kind)
        #expect(ours?.path == foundation?.path)
    }

    /// Random edits of a valid document: parsing never crashes, and calls
    /// a text JSON exactly when Foundation's parser does, but for their
    /// known differences.
    @Test func editedTextIsJSONExactlyWhenFoundationSaysSo() {
        var random = SeededRandom(seed: 0x5EED_0003)
        let alphabet = Array(#"{}[]",:0123456789.-+eE \ntrufalsn\u"#.utf8)
        let base = Array(Self.documents[2].utf8)
        for _ in 0..<3_000 {
            var text = base
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = Int.random(in: 0..<text.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: text[at] = alphabet.randomElement(using: &random)!
                case 1: text.remove(at: at)
                default: text.insert(alphabet.randomElement(using: &random)!, at: at)
                }
            }
            let ours = (try? JSONNode(parsing: text)) != nil
            let foundation = (try? JSONSerialization.jsonObject(with: Data(text), options: .fragmentsAllowed)) != nil
            guard !Self.isKnownDifference(text) else { continue }
            #expect(ours == foundation, "\(String(decoding: text, as: UTF8.self))")
        }
    }
}
