import Corefile
import CorefilePlan
import DNSModel
import DataPlane
import RecordModel
import TestSupport
import Testing

@Suite struct CorefilePlanTests {
    func plan(_ text: String) throws -> CorefilePlan {
        try CorefilePlan(try Corefile(path: "Corefile", text: text).configurations())
    }

    func error(_ text: String) -> String {
        do {
            _ = try plan(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func name(_ text: String) -> DNSName { try! DNSName(text) }

    /// kubeadm's current default Corefile (the fixture).
    static var kubeadm: String { (try? FixtureCorefiles.text("kubeadm")) ?? "" }

    @Test func kubeadmsDefaultIsTheClusterWithReverseFallthroughAndOneRoute() throws {
        let plan = try plan(Self.kubeadm)
        #expect(plan.port == 53 && plan.addresses == ["0.0.0.0"])
        let cluster = try #require(plan.cluster)
        #expect(cluster.options.domain == name("cluster.local"))
        #expect(cluster.options.ttl == 30 && cluster.options.pods == .insecure)
        #expect(!cluster.options.domainFallsThrough && cluster.options.reverseFallsThrough)
        #expect(plan.routes.map(\.domain) == [.root])
        #expect(plan.routes[0].targets == [.resolvConf(path: "/etc/resolv.conf")])
        #expect(plan.routes[0].order == .random && plan.routes[0].cached)
        #expect(plan.cache == CachePlan(capacity: 9984 * 2, maxTTL: 30, maxNegativeTTL: 30))
        #expect(plan.maxConcurrentForwards == 1000)
        #expect(plan.health?.lameduck == .seconds(5) && plan.health?.address == ":8080")
        #expect(plan.readyAddress == ":8181" && plan.metricsAddress == ":9153")
        #expect(plan.reload != nil)
    }

    @Test func kubernetesDefaultsAreCoreDNSs() throws {
        let plan = try plan(".:53 {\nkubernetes cluster.local\n}")
        let options = try #require(plan.cluster).options
        #expect(options.ttl == 5 && options.pods == .disabled)
        // Reverse zones not among the plugin's: the cluster's PTRs served, the rest passed on.
        #expect(options.reverseFallsThrough)
        // No forward in the block: names no plugin answers are SERVFAIL.
        #expect(plan.routes.map(\.domain) == [.root] && plan.routes[0].targets.isEmpty)
    }

    @Test func fallthroughDecidesWhatIsAuthoritative() throws {
        let all = try #require(try plan(".:53 {\nkubernetes cluster.local in-addr.arpa ip6.arpa {\nfallthrough\n}\n}").cluster).options
        #expect(all.domainFallsThrough && all.reverseFallsThrough)
        let none = try #require(try plan(".:53 {\nkubernetes cluster.local in-addr.arpa ip6.arpa\n}").cluster).options
        #expect(!none.domainFallsThrough && !none.reverseFallsThrough)
    }

    @Test func stubDomainBlocksAreRoutesOfTheirOwn() throws {
        let plan = try plan(
            Self.kubeadm + """

                consul.local:53 {
                    errors
                    cache 30
                    forward . 10.150.0.1 10.150.0.2:5353 {
                        policy sequential
                        force_tcp
                        max_fails 0
                    }
                }
                example.org {
                    forward sub.example.org 10.0.0.9
                }
                """)
        let routes = Dictionary(uniqueKeysWithValues: plan.routes.map { ($0.domain.description, $0) })
        #expect(Set(routes.keys) == [".", "consul.local.", "example.org.", "sub.example.org."])
        let consul = try #require(routes["consul.local."])
        #expect(
            consul.targets == [.address(IPAddress("10.150.0.1")!, port: 53), .address(IPAddress("10.150.0.2")!, port: 5353)])
        #expect(consul.order == .sequential && consul.forceTCP && consul.maxFails == 0 && consul.cached)
        // A block whose forward covers only part of its zone: the rest is SERVFAIL, never the default upstreams.
        #expect(routes["example.org."]?.targets == [] && routes["example.org."]?.cached == false)
        #expect(routes["sub.example.org."]?.targets == [.address(IPAddress("10.0.0.9")!, port: 53)])
    }

    @Test func exceptZonesGetNoUpstreams() throws {
        let plan = try plan(".:53 {\nforward . 10.0.0.1 {\nexcept corp.example lab.example\n}\n}")
        #expect(plan.routes.map(\.domain.description) == [".", "corp.example.", "lab.example."])
        #expect(plan.routes.dropFirst().allSatisfy { $0.targets.isEmpty })
        #expect(plan.cluster == nil && plan.cache.capacity == 0)
    }

    /// CoreDNS chains a block's forwards in written order: the first whose
    /// FROM covers a name takes it, and passes its except names on.
    @Test func severalForwardsOfABlockAreTriedInWrittenOrder() throws {
        let plan = try plan(
            """
            .:53 {
                forward corp.example 10.0.0.2 {
                    except skip.corp.example
                }
                forward . 10.0.0.1 {
                    except blocked.example
                }
                forward lab.example 10.0.0.3
            }
            """)
        let routes = Dictionary(uniqueKeysWithValues: plan.routes.map { ($0.domain.description, $0.targets) })
        let (first, second) = (
            ForwardPlugin.Target.address(IPAddress("10.0.0.2")!, port: 53), ForwardPlugin.Target.address(IPAddress("10.0.0.1")!, port: 53)
        )
        // lab.example comes after `.`, which takes every name first: it is never asked.
        #expect(routes == [".": [second], "corp.example.": [first], "skip.corp.example.": [second], "blocked.example.": []])
    }

    @Test func aForwardOfAnotherBlocksZoneIsThatBlocks() throws {
        let plan = try plan(".:53 {\nforward . 10.0.0.1\n}\nacme.local:53 {\nerrors\n}")
        #expect(plan.routes.map(\.domain.description) == [".", "acme.local."])
        #expect(plan.routes[1].targets.isEmpty)
    }

    @Test func bindGathersAddressesOfEveryBlock() throws {
        let nodeLocal = try plan(
            """
            cluster.local:53 {
                bind 169.254.20.10 10.0.0.10
                forward . 10.0.0.20 {
                    force_tcp
                }
            }
            .:53 {
                bind 169.254.20.10 10.0.0.10
                forward . /etc/resolv.conf
            }
            """)
        #expect(nodeLocal.addresses == ["169.254.20.10", "10.0.0.10"])
        #expect(try plan(".:53 {\nbind 127.0.0.1\n}\nexample.org {\nerrors\n}").addresses == ["0.0.0.0"])
        #expect(error(".:53 {\nbind eth0\n}").hasSuffix("plugin/bind: eth0: not an IP address (interface names are not supported)"))
    }

    @Test func whatThisServerCannotServeIsAStartError() {
        #expect(
            error(".:53 {\nerrors\n}\nexample.org:5353 {\nerrors\n}")
                == "Corefile:4 - Error during parsing: dns://example.org.:5353: server blocks on more than one port (53, 5353) are not supported by this server"
        )
        #expect(
            error(".:53 {\nkubernetes cluster.local cluster.example\n}").contains(
                "plugin/kubernetes: more than one cluster domain (cluster.local., cluster.example.)"))
        #expect(error(".:53 {\nkubernetes in-addr.arpa\n}").contains("plugin/kubernetes: no cluster domain"))
        #expect(
            error(".:53 {\nkubernetes cluster.local\n}\nexample.org {\nkubernetes example.org\n}").hasPrefix(
                "Corefile:5 - Error during parsing: plugin/kubernetes: in more than one server block"))
    }

    @Test func cacheSettingsAreTakenAndThoseDoneDifferentlyNoted() throws {
        let plan = try plan(
            ".:53 {\ncache {\nprefetch 10\nserve_stale 1h\nservfail 0\n}\nforward . 10.0.0.1 {\nexpire 30s\n}\n}\n"
                + "example.org {\ncache {\nprefetch 2 1m 50%\nkeepttl\n}\n}")
        #expect(plan.cache.serveStale == .seconds(3600))
        // The one cache takes the more eager prefetch, and keepttl from either block.
        #expect(plan.cache.prefetch == .init(amount: 2, window: .seconds(60), percentage: 50))
        #expect(plan.cache.keepTTL)
        #expect(!plan.notes.contains { $0.hasPrefix("cache prefetch") })
        #expect(plan.notes.contains { $0.hasPrefix("cache servfail") })
        #expect(plan.notes.contains { $0.hasPrefix("forward expire") })
    }

    /// Each block's cache caps its own routes, as CoreDNS's cache per block
    /// does: NodeLocal's cluster zone keeps denials 5 s, its root block 30 s.
    @Test func eachRouteTakesItsBlocksCacheCaps() throws {
        let plan = try plan(
            "cluster.local {\ncache {\nsuccess 9984 30\ndenial 9984 5\n}\nforward . 10.0.0.11 {\nforce_tcp\n}\n}\n"
                + ".:53 {\ncache 30\nforward . 10.0.0.53\n}\n" + "example.org {\ncache {\ndisable denial\n}\nforward . 10.0.0.54\n}\n"
                + "uncached.test {\nforward . 10.0.0.55\n}\n")
        let routes = Dictionary(uniqueKeysWithValues: plan.routes.map { ($0.domain.description, $0) })
        #expect(routes["cluster.local."].map { ($0.cacheMaxTTL, $0.cacheMaxNegativeTTL) } ?? (0, 0) == (30, 5))
        #expect(routes["."].map { ($0.cacheMaxTTL, $0.cacheMaxNegativeTTL) } ?? (0, 0) == (30, 30))
        #expect(routes["example.org."].map { ($0.cacheMaxTTL, $0.cacheMaxNegativeTTL) } ?? (0, 0) == (3600, 0))
        #expect(routes["uncached.test."]?.cached == false)
    }
}
