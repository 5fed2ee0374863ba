import DNSModel
import Foundation
import ObjectSources
import RecordModel
import RecordPublisher
import Testing

@Suite struct ObjectsFileStateTests {
    /// Every name the state's contents would put in a whole table.
    func names(_ state: ObjectsFileState) -> Set<String> {
        var names: Set<String> = []
        for part in 0..<state.contents.partCount {
            state.contents.forEachName(inPart: part) { zone in
                names.formUnion(zone.names.map(\.description))
            } pointers: { pointer in
                names.insert(pointer.name.description)
            }
        }
        return names
    }

    @Test func aPublishedReadIsLetGoAndItsSerialKept() throws {
        var state = ObjectsFileState(options: RecordOptions(domain: try DNSName("cluster.local")))
        let objects = try ObjectsFile.parse(
            Data(#"{"kind": "Service", "metadata": {"name": "web", "namespace": "ns"}, "spec": {"clusterIP": "10.0.0.1"}}"#.utf8),
            path: "test.json")
        _ = state.apply(objects)
        state.stamp(epochSeconds: 2_000)
        #expect(names(state).contains("web.ns.svc.cluster.local."))

        state.tablePublished()
        #expect(!names(state).contains("web.ns.svc.cluster.local."))
        #expect(state.summary == "1 services")
        #expect(state.isComplete)
        // The serial never moves back (RFC 1982), though the objects are gone.
        state.stamp(epochSeconds: 1_000)
        #expect(state.contents.heads.serial == 2_000)
    }
}
