import DNSModel
import DataPlane
import NodeCache
import Testing
import Upstreams

/// node-cache's Corefile from the upstream `node-local-dns` ConfigMap's
/// template, as k8s-dns-node-cache writes it.
@Suite struct NodeCacheCorefileTests {
    /// The template's first and last blocks, as the upstream manifest has them.
    static let template = """
        cluster.local:53 {
            errors
            bind __PILLAR__LOCAL__DNS__ __PILLAR__DNS__SERVER__
            forward . __PILLAR__CLUSTER__DNS__ {
                    force_tcp
            }
            health __PILLAR__LOCAL__DNS__:8080
            }
        .:53 {
            errors
            bind __PILLAR__LOCAL__DNS__ __PILLAR__DNS__SERVER__
            forward . __PILLAR__UPSTREAM__SERVERS__
            }

        """

    @Test func thePillarsAreTheLocalAddressesTheUpstreamServiceAndResolvConf() {
        let rendered = NodeCacheCorefile.render(
            template: Self.template, localAddresses: ["169.254.20.10", "10.0.0.10"], port: 53, clusterDNS: "10.0.0.11")
        #expect(
            rendered == """
                cluster.local:53 {
                    errors
                    bind 169.254.20.10 10.0.0.10 
                    forward . 10.0.0.11 {
                            force_tcp
                    }
                    health 169.254.20.10 10.0.0.10:8080
                    }
                .:53 {
                    errors
                    bind 169.254.20.10 10.0.0.10 
                    forward . /etc/resolv.conf
                    }

                """)
    }

    @Test func upstreamNameserversGoOverUDPAndStubDomainsGetBlocks() throws {
        let template =
            "cluster.local:53 {\n    bind __PILLAR__LOCAL__DNS__\n}\n.:53 {\n    forward . __PILLAR__UPSTREAM__SERVERS__ {\n            force_tcp\n    }\n}\n"
        let kubeDNS = ConfigDirectory(
            stubDomains: [
                (try DNSName("acme.local"), [Forwarding.Upstream(host: "10.0.0.53"), Forwarding.Upstream(host: "10.0.0.54", port: 5353)])
            ],
            upstreamNameservers: [Forwarding.Upstream(host: "8.8.8.8")])
        let rendered = NodeCacheCorefile.render(
            template: template, localAddresses: ["169.254.20.10"], port: 53, clusterDNS: "10.0.0.11", kubeDNS: kubeDNS)
        #expect(
            rendered == """
                cluster.local:53 {
                    bind 169.254.20.10
                }
                .:53 {
                    forward . 8.8.8.8:53
                }

                acme.local:53 {
                    errors
                    cache 30
                    bind 169.254.20.10
                    forward . 10.0.0.53:53 10.0.0.54:5353
                }

                """)
    }

    @Test func theUpstreamServiceIsFoundInItsEnvironmentVariable() {
        #expect(NodeCacheCorefile.serviceHostVariable("kube-dns-upstream") == "KUBE_DNS_UPSTREAM_SERVICE_HOST")
        #expect(NodeCacheCorefile.needsClusterDNS(Self.template))
        #expect(!NodeCacheCorefile.needsClusterDNS(".:53 {\n    forward . /etc/resolv.conf\n}\n"))
    }
}
