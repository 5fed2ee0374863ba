import JSONDecoding
import Testing

@testable import KubeAPI

/// The lines of a watch stream, as the API server writes them.
@Suite struct WatchEventTests {
    typealias Event = WatchEvent<InformerTests.Named>

    func event(_ line: String) throws -> Event { try JSONNode.decode(Event.self, from: line.utf8) }

    @Test func objectEventsCarryTheObjectAndItsVersion() throws {
        let line = #"{"type":"MODIFIED","object":{"kind":"Service","metadata":{"name":"a","resourceVersion":"42"}}}"#
        guard case .modified(let object, let version) = try event(line) else {
            Issue.record("not MODIFIED")
            return
        }
        #expect(object.name == "a")
        #expect(version == "42")
        guard case .deleted = try event(line.replacing("MODIFIED", with: "DELETED")) else {
            Issue.record("not DELETED")
            return
        }
    }

    @Test func aBookmarkCarriesOnlyItsVersion() throws {
        guard case .bookmark(let version) = try event(#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}"#)
        else {
            Issue.record("not BOOKMARK")
            return
        }
        #expect(version == "7")
    }

    /// An ERROR carries a `Status`; one without a code is a server error.
    @Test func anErrorCarriesTheStatus() throws {
        let gone = #"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}}"#
        guard case .error(let code, let message) = try event(gone) else {
            Issue.record("not ERROR")
            return
        }
        #expect(code == 410)
        #expect(message == "Expired: too old resource version")
        guard case .error(500, _) = try event(#"{"type":"ERROR","object":{"message":"x"}}"#) else {
            Issue.record("no code is not 500")
            return
        }
    }

    @Test func anUnknownTypeIsAnErrorAtItsField() {
        #expect {
            try event(#"{"type":"RESIZED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}"#)
        } throws: { error in
            guard case .dataCorrupted(let context) = error as? DecodingError else { return false }
            return context.codingPath.map(\.stringValue) == ["type"] && context.debugDescription.contains("RESIZED")
        }
    }

    /// An object event without a resourceVersion cannot advance the watch.
    @Test func anObjectWithoutAVersionIsAnError() {
        #expect(throws: DecodingError.self) { try event(#"{"type":"ADDED","object":{"metadata":{"name":"a"}}}"#) }
    }
}
