import Etcd
import KubeAPI
import ObjectSources
import RecordModel
import Testing

@testable import Kube2Sky

/// Which directories a change touches, and the keys and writes they get.
@Suite struct ClusterKeysTests {
    let domain = try! DNSName("cluster.local")

    func pod(_ name: String, ip: String) -> Pod {
        Pod(metadata: ObjectMeta(name: name, namespace: "prod"), status: .init(phase: "Running", podIP: ip))
    }

    func service(_ name: String, clusterIP: String) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: "prod"), spec: .init(type: "ClusterIP", clusterIP: clusterIP))
    }

    @Test func hostNetworkPodsShareTheirAddressesKey() throws {
        var keys = ClusterKeys(domain: domain)
        keys.apply(.pods(.replaced([pod("a", ip: "10.2.0.5"), pod("b", ip: "10.2.0.5")])))
        let directory = "/skydns/local/cluster/pod/prod/10-2-0-5"
        #expect(keys.dirty == [directory])
        #expect(keys.keys(of: directory).count == 1)
        keys.dirty.removeAll()
        // One of the two goes: the address is still a pod's.
        keys.apply(.pods(.deleted(pod("a", ip: "10.2.0.5"))))
        #expect(keys.dirty == [directory])
        #expect(keys.keys(of: directory).count == 1)
        keys.apply(.pods(.deleted(pod("b", ip: "10.2.0.5"))))
        #expect(keys.keys(of: directory).isEmpty)
        #expect(keys.allKeys().isEmpty)
    }

    @Test func aChangeTouchesItsOwnDirectoriesOnly() throws {
        var keys = ClusterKeys(domain: domain)
        keys.apply(.services(.replaced([service("web", clusterIP: "10.0.0.20"), service("db", clusterIP: "None")])))
        keys.dirty.removeAll()
        let slice = EndpointSlice(
            metadata: ObjectMeta(name: "db-a", namespace: "prod", labels: ["kubernetes.io/service-name": "db"]),
            endpoints: [.init(addresses: ["10.1.0.1"], hostname: "db-0", ready: true)], ports: [])
        keys.apply(.endpointSlices(.added(slice)))
        #expect(keys.dirty == ["/skydns/local/cluster/svc/prod/db"])
        #expect(
            keys.keys(of: "/skydns/local/cluster/svc/prod/db") == [
                "/skydns/local/cluster/svc/prod/db/db-0": SkyDNSLayout.value(host: "10.1.0.1")
            ])
        // A pod moving from one address to another touches both.
        keys.dirty.removeAll()
        keys.apply(.pods(.added(pod("p", ip: "10.2.0.1"))))
        keys.dirty.removeAll()
        keys.apply(.pods(.modified(pod("p", ip: "10.2.0.2"))))
        #expect(keys.dirty == ["/skydns/local/cluster/pod/prod/10-2-0-1", "/skydns/local/cluster/pod/prod/10-2-0-2"])
        #expect(keys.keys(of: "/skydns/local/cluster/pod/prod/10-2-0-1").isEmpty)
    }

    @Test func writesPutBeforeTheyDeleteAndAnEmptyDirectoryGoesWhole() {
        let directory = "/skydns/local/cluster/svc/prod/web"
        let old = ["\(directory)/a": "1", "\(directory)/b": "2"]
        let new = ["\(directory)/b": "2", "\(directory)/c": "3"]
        #expect(
            Kube2SkyWriter.writes(from: old, to: new, directory: directory) == [
                .put(key: "\(directory)/c", value: "3"), .delete(key: "\(directory)/a"),
            ])
        #expect(Kube2SkyWriter.writes(from: old, to: old, directory: directory).isEmpty)
        #expect(Kube2SkyWriter.writes(from: old, to: [:], directory: directory) == [.deletePrefix("\(directory)/")])
        #expect(Kube2SkyWriter.writes(from: [:], to: [:], directory: directory).isEmpty)
    }

    @Test func ownerDirectoriesOfKeys() {
        #expect(
            SkyDNSLayout.ownerDirectory(ofKey: "/skydns/local/cluster/svc/prod/web/_tcp/_http/abc", domain: domain)
                == "/skydns/local/cluster/svc/prod/web")
        #expect(
            SkyDNSLayout.ownerDirectory(ofKey: "/skydns/local/cluster/pod/prod/10-2-0-5/abc", domain: domain)
                == "/skydns/local/cluster/pod/prod/10-2-0-5")
        // Stray keys higher up belong to the directory they are in.
        #expect(SkyDNSLayout.ownerDirectory(ofKey: "/skydns/local/cluster/svc/prod/x", domain: domain) == "/skydns/local/cluster/svc/prod")
        // Keys kube2sky does not own.
        #expect(SkyDNSLayout.ownerDirectory(ofKey: "/skydns/local/cluster/hand/x", domain: domain) == nil)
        #expect(SkyDNSLayout.ownerDirectory(ofKey: "/skydns/local/other/svc/a/b/c", domain: domain) == nil)
    }
}
