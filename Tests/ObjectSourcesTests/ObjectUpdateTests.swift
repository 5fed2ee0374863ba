import KubeAPI
import ObjectSources
import RecordModel
import Testing

/// How the informers' updates change the objects being loaded.
@Suite struct ObjectUpdateTests {
    func service(_ name: String, _ ip: String) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: "ns"), spec: .init(clusterIP: ip))
    }

    func names(_ objects: ClusterObjects) -> Set<String> { Set(objects.services.keys.map(\.name)) }

    /// Makes the changes an update gives `objects`; returns how many there were.
    @discardableResult
    func apply(_ update: ObjectUpdate, to objects: inout ClusterObjects) -> Int {
        let changes = objects.changes(for: update)
        for change in changes { objects.apply(change) }
        return changes.count
    }

    @Test func aListReplacesWhatIsThereAndEventsChangeIt() {
        var objects = ClusterObjects()
        apply(.services(.replaced([service("a", "10.0.0.1"), service("b", "10.0.0.2")])), to: &objects)
        #expect(names(objects) == ["a", "b"])
        apply(.services(.added(service("c", "10.0.0.3"))), to: &objects)
        apply(.services(.modified(service("a", "10.0.0.4"))), to: &objects)
        #expect(names(objects) == ["a", "b", "c"])
        // A relist: what it lacks was deleted meanwhile.
        apply(.services(.replaced([service("b", "10.0.0.9"), service("c", "10.0.0.3")])), to: &objects)
        #expect(names(objects) == ["b", "c"])
        #expect(objects.services[ObjectKey(namespace: "ns", name: "b")]?.spec.clusterIP == "10.0.0.9")
        apply(.services(.deleted(service("c", "10.0.0.3"))), to: &objects)
        #expect(names(objects) == ["b"])
    }

    /// A page adds and changes what it has and deletes nothing; the list
    /// that ends it changes only what the pages left out.
    @Test func aPageOfAListDeletesNothing() {
        var objects = ClusterObjects()
        apply(.services(.replaced([service("old", "10.0.0.1"), service("b", "10.0.0.2")])), to: &objects)
        let page = [service("a", "10.0.0.5"), service("b", "10.0.0.6")]
        #expect(apply(.services(.listing(page)), to: &objects) == 2)
        #expect(names(objects) == ["old", "a", "b"])
        #expect(apply(.services(.listing(page)), to: &objects) == 0)
        #expect(apply(.services(.replaced(page)), to: &objects) == 1)
        #expect(names(objects) == ["a", "b"])
    }
}
