import Etcd
import RecordModel
import Testing

/// The skydns layout, as kube2sky of Kubernetes 1.2 wrote it.
@Suite struct SkyDNSLayoutTests {
    @Test func keysAndValuesAsKube2skyWroteThem() throws {
        let name = try DNSName("kube-dns.kube-system.svc.cluster.local")
        #expect(SkyDNSLayout.path(of: name) == "/skydns/local/cluster/svc/kube-system/kube-dns")
        let value = SkyDNSLayout.value(host: "10.0.0.10")
        #expect(value == #"{"host":"10.0.0.10","priority":10,"weight":10,"ttl":30,"targetstrip":0}"#)
        #expect(SkyDNSLayout.leaf(of: value) == "21172049")
        #expect(SkyDNSLayout.key(of: name, value: value) == "/skydns/local/cluster/svc/kube-system/kube-dns/21172049")
        #expect(
            SkyDNSLayout.value(host: "kube-dns.kube-system.svc.cluster.local.", port: 53)
                == #"{"host":"kube-dns.kube-system.svc.cluster.local.","port":53,"priority":10,"weight":10,"ttl":30,"targetstrip":0}"#)
        #expect(SkyDNSLayout.name(ofDirectory: "/skydns/local/cluster/svc/kube-system/kube-dns") == name)
        #expect(SkyDNSLayout.name(ofDirectory: "/other/local") == nil)
    }
}
