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

    @Test func aFirstListIsTakenWholeAndALaterListReplacesWhatIsThere() {
        var objects = ClusterObjects()
        objects.apply(.services(.replaced([service("a", "10.0.0.1"), service("b", "10.0.0.2")])))
        #expect(names(objects) == ["a", "b"])
        objects.apply(.services(.added(service("c", "10.0.0.3"))))
        objects.apply(.services(.modified(service("a", "10.0.0.4"))))
        #expect(names(objects) == ["a", "b", "c"])
        // A relist: what it lacks was deleted meanwhile.
        objects.apply(.services(.replaced([service("b", "10.0.0.9"), service("c", "10.0.0.3")])))
        #expect(names(objects) == ["b", "c"])
        #expect(objects.services[ObjectKey(namespace: "ns", name: "b")]?.spec.clusterIP == "10.0.0.9")
        objects.apply(.services(.deleted(service("c", "10.0.0.3"))))
        #expect(names(objects) == ["b"])
    }
}
