import Foundation
import JSONDecoding
import RecordModel
import Testing

@Suite struct ServiceTests {
    @Test func equalPortListsShareOneArray() throws {
        let json = """
            [{"metadata": {"name": "a", "namespace": "n"},
              "spec": {"clusterIP": "10.0.0.1", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}},
             {"metadata": {"name": "b", "namespace": "n"},
              "spec": {"clusterIP": "10.0.0.2", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}},
             {"metadata": {"name": "c", "namespace": "n"},
              "spec": {"clusterIP": "10.0.0.3", "ports": [{"name": "dns", "port": 5353, "protocol": "UDP"}]}}]
            """
        let services = try JSONNode.decode([Service].self, from: json.utf8)
        let storage = services.map { $0.spec.ports?.withUnsafeBufferPointer { $0.baseAddress } }
        #expect(storage[0] != nil && storage[0] == storage[1])
        #expect(storage[2] != storage[0])
        #expect(services[2].spec.ports?.first?.port == 5353)
    }

    @Test func aSingleStackClusterIPIsKeptOnce() throws {
        let json = """
            [{"metadata": {"name": "a", "namespace": "n"},
              "spec": {"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"]}},
             {"metadata": {"name": "a", "namespace": "n"}, "spec": {"clusterIP": "10.0.0.1"}},
             {"metadata": {"name": "d", "namespace": "n"},
              "spec": {"clusterIP": "10.0.0.4", "clusterIPs": ["10.0.0.4", "fd00::4"]}}]
            """
        let services = try JSONNode.decode([Service].self, from: json.utf8)
        #expect(services[0].spec.clusterIPs == nil)
        #expect(services[0] == services[1])
        #expect(services[0].clusterIPs == [IPAddress("10.0.0.1")!])
        #expect(services[2].clusterIPs == [IPAddress("10.0.0.4")!, IPAddress("fd00::4")!])
    }

    @Test func onlyWhatDNSReadsIsKept() throws {
        let json = """
            [{"metadata": {"name": "a", "namespace": "n"}, "spec": {"type": "NodePort", "clusterIP": "10.0.0.1", "externalName": "x.org"}},
             {"metadata": {"name": "a", "namespace": "n"}, "spec": {"clusterIP": "10.0.0.1"}},
             {"metadata": {"name": "e", "namespace": "n"}, "spec": {"type": "ExternalName", "externalName": "10.0.0.5", "clusterIP": "10.0.0.6"}},
             {"metadata": {"name": "e", "namespace": "n"}, "spec": {"type": "ClusterIP", "clusterIP": "10.0.0.5"}}]
            """
        let services = try JSONNode.decode([Service].self, from: json.utf8)
        // A type other than ExternalName, and an external name beside a cluster IP, are read by no DNS rule.
        #expect(services[0] == services[1])
        #expect(services[0].clusterIPs == [IPAddress("10.0.0.1")!])
        #expect(services[2].isExternalName && services[2].spec.externalName == "10.0.0.5")
        #expect(services[2].clusterIPs.isEmpty && services[2].spec.clusterIP == nil)
        #expect(services[2] != services[3] && !services[3].isExternalName)
        #expect(services[3].clusterIPs == [IPAddress("10.0.0.5")!])
    }
}
