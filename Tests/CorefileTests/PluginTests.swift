import Corefile
import DNSModel
import Testing

@Suite struct PluginTests {
    func plugins(_ body: String, keys: String = ".:53") throws -> [Plugin] {
        let corefile = try Corefile(path: "Corefile", text: "\(keys) {\n\(body)\n}\n", files: MemoryFiles(files: [:]))
        return try corefile.configurations()[0].plugins
    }

    func error(_ body: String) -> String {
        do {
            _ = try plugins(body)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func name(_ text: String) -> DNSName { try! DNSName(text) }

    @Test func kubeadmsDefaultReadsEveryOption() throws {
        let chain = try Corefile(path: "Corefile", text: CorefileTests.kubeadm, files: MemoryFiles(files: [:])).configurations()[0].plugins
        guard case .kubernetes(let kubernetes) = chain[7], case .forward(let forward) = chain[9], case .cache(let cache) = chain[6],
            case .health(let health) = chain[2]
        else {
            Issue.record("unexpected chain \(chain)")
            return
        }
        #expect(kubernetes.zones == [name("cluster.local"), name("in-addr.arpa"), name("ip6.arpa")])
        #expect(kubernetes.pods == .insecure)
        #expect(kubernetes.ttl == 30)
        #expect(kubernetes.fallsThrough(name("1.0.10.in-addr.arpa")))
        #expect(!kubernetes.fallsThrough(name("web.default.svc.cluster.local")))
        #expect(forward.from == .root)
        #expect(forward.to == [.resolvConf(path: "/etc/resolv.conf")])
        #expect(forward.maxConcurrent == 1000)
        #expect(cache.success.maxTTL == 30 && cache.denial.maxTTL == 30)
        #expect(cache.disableSuccess == [name("cluster.local")] && cache.disableDenial == [name("cluster.local")])
        #expect(health.lameduck == .seconds(5))
        #expect(chain[1] == .ready(address: ":8181"))
        #expect(chain[3] == .prometheus(address: ":9153"))
    }

    @Test func kubernetesDefaultsToTheBlocksZonesAndCoreDNSsTTL() throws {
        guard
            case .kubernetes(let plugin) = try plugins(
                "kubernetes {\n endpoint https://10.0.0.1:6443\n kubeconfig /k.conf ctx\n}", keys: "cluster.local:53")[0]
        else {
            Issue.record("no kubernetes")
            return
        }
        #expect(plugin.zones == [name("cluster.local")])
        #expect(plugin.ttl == 5 && plugin.pods == .disabled && plugin.fallthroughZones == nil)
        #expect(plugin.endpoint == "https://10.0.0.1:6443")
        #expect(plugin.kubeconfig == .init(file: "/k.conf", context: "ctx"))
    }

    @Test func forwardReadsUpstreamsAndOptions() throws {
        let text = """
            forward example.org 10.0.0.1 dns://10.0.0.2:5353 [fd00::1]:53 fd00::2 {
                except internal.example.org
                force_tcp
                expire 20s
                max_fails 3
                health_check 1s
                policy sequential
            }
            """
        guard case .forward(let forward) = try plugins(text)[0] else {
            Issue.record("no forward")
            return
        }
        #expect(forward.from == name("example.org"))
        #expect(
            forward.to == [
                .address(IPAddress("10.0.0.1")!, port: 53), .address(IPAddress("10.0.0.2")!, port: 5353),
                .address(IPAddress("fd00::1")!, port: 53), .address(IPAddress("fd00::2")!, port: 53),
            ])
        #expect(forward.except == [name("internal.example.org")])
        #expect(forward.forceTCP && forward.expire == .seconds(20) && forward.maxFails == 3)
        #expect(forward.healthCheck == .seconds(1) && forward.policy == .sequential && forward.maxConcurrent == nil)
    }

    @Test func cacheReadsNodeLocalDNSCachesSettings() throws {
        let text = "cache {\n success 9984 30\n denial 9984 5\n prefetch 10 1m 20%\n serve_stale 1h\n keepttl\n}"
        guard case .cache(let cache) = try plugins(text, keys: "cluster.local:53")[0] else {
            Issue.record("no cache")
            return
        }
        #expect(cache.zones == [name("cluster.local")])
        #expect(cache.success == .init(capacity: 9984, maxTTL: 30, minTTL: 5))
        #expect(cache.denial == .init(capacity: 9984, maxTTL: 5, minTTL: 5))
        #expect(cache.prefetch == .init(amount: 10, window: .seconds(60), percentage: 20))
        #expect(cache.serveStale == .seconds(3600) && cache.keepTTL)
    }

    @Test func hostsReadsInlineEntriesAndOptions() throws {
        let text = "hosts /etc/coredns/NodeHosts {\n 10.1.0.5 node-a node-a.local\n ttl 60\n reload 15s\n no_reverse\n fallthrough\n}"
        guard case .hosts(let hosts) = try plugins(text)[0] else {
            Issue.record("no hosts")
            return
        }
        #expect(hosts.file == "/etc/coredns/NodeHosts" && hosts.zones == [.root])
        #expect(hosts.inline == [.init(address: IPAddress("10.1.0.5")!, names: [name("node-a"), name("node-a.local")])])
        #expect(hosts.ttl == 60 && hosts.reload == .seconds(15) && hosts.noReverse && hosts.fallthroughZones == [])
    }

    @Test func theSmallPluginsAndTheirDefaults() throws {
        let chain = try plugins(
            "any\nloop\nlog\nerrors\nloadbalance round_robin\nreload 10s\nbind 169.254.20.10 10.0.0.10\nready\nprometheus")
        guard case .reload(let reload) = chain.first else {
            Issue.record("no reload first in \(chain)")
            return
        }
        #expect(reload.interval == .seconds(10) && reload.jitter == .seconds(5))
        #expect(
            Array(chain.dropFirst()) == [
                .bind(["169.254.20.10", "10.0.0.10"]), .ready(address: ":8181"), .prometheus(address: "localhost:9153"),
                .errors(ErrorsPlugin()),
                .log([LogRule(name: .root, format: LogRule.commonFormat, classes: [.all])]), .any, .loadbalance, .loop,
            ])
    }

    @Test func errorsReadsConsolidations() throws {
        guard
            case .errors(let errors) = try plugins(
                "errors {\n stacktrace\n consolidate 5m \".* i/o timeout$\" warning\n consolidate 30s \"^Failed to .+\" show_first\n}")[0]
        else {
            Issue.record("no errors")
            return
        }
        #expect(errors.consolidations.map(\.window) == [.seconds(300), .seconds(30)])
        #expect(errors.consolidations.map(\.level) == ["warning", "error"])
        #expect(errors.consolidations.map(\.showFirst) == [false, true])
        #expect(
            error("errors {\n consolidate 5m x loud\n}")
                == "Corefile:3 - Error during parsing: plugin/errors: level 'loud' is not one of warning, error, info, debug")
        #expect(GoDurationText.format(.seconds(300)) == "5m0s" && GoDurationText.format(.milliseconds(1500)) == "1.5s")
    }

    @Test func logReadsNamesAFormatAndClasses() throws {
        guard case .log(let rules) = try plugins("log a.example b.example \"{name} {rcode}\" {\n class denial error\n}")[0],
            case .log(let combined) = try plugins("log . {combined}")[0]
        else {
            Issue.record("no log")
            return
        }
        #expect(rules.map(\.name) == [name("a.example"), name("b.example")])
        #expect(rules.allSatisfy { $0.format == "{name} {rcode}" && $0.classes == [.denial, .error] })
        #expect(combined == [LogRule(name: .root, format: LogRule.combinedFormat, classes: [.all])])
        #expect(error("log {\n class maybe\n}") == "Corefile:3 - Error during parsing: plugin/log: invalid Class: maybe")
    }

    @Test func kubernetesFiltersAndNamingOptions() throws {
        guard
            case .kubernetes(let plugin) = try plugins(
                "kubernetes cluster.local {\n namespaces prod staging\n labels app in (web, api), !canary\n"
                    + " endpoint_pod_names\n noendpoints\n ignore empty_service\n}")[0],
            case .kubernetes(let byLabel) = try plugins("kubernetes cluster.local {\n namespace_labels team=dns\n}")[0]
        else {
            Issue.record("no kubernetes")
            return
        }
        #expect(plugin.namespaces == ["prod", "staging"])
        #expect(plugin.labels?.description == "app in (web,api),!canary")
        #expect(plugin.endpointPodNames && plugin.noEndpoints && plugin.ignoreEmptyService)
        #expect(plugin.namespaceLabels == nil)
        #expect(byLabel.namespaceLabels?.description == "team=dns")
        #expect(byLabel.namespaces == nil && byLabel.labels == nil && !byLabel.endpointPodNames && !byLabel.ignoreEmptyService)
    }

    @Test func forwardReadsTLSUpstreamsAndTheirOptions() throws {
        guard
            case .forward(let forward) = try plugins(
                "forward . tls://9.9.9.9 tls://[2620:fe::fe]:8853 10.0.0.1 {\n tls /c.pem /k.pem /ca.pem\n tls_servername dns.quad9.net\n}")[
                    0],
            case .forward(let caOnly) = try plugins("forward . tls://9.9.9.9 {\n tls /ca.pem\n}")[0]
        else {
            Issue.record("no forward")
            return
        }
        #expect(
            forward.to == [
                .tls(IPAddress("9.9.9.9")!, port: 853), .tls(IPAddress("2620:fe::fe")!, port: 8853),
                .address(IPAddress("10.0.0.1")!, port: 53),
            ])
        #expect(forward.tls == .init(certificate: "/c.pem", key: "/k.pem", ca: "/ca.pem") && forward.tlsServerName == "dns.quad9.net")
        #expect(caOnly.tls == .init(certificate: nil, key: nil, ca: "/ca.pem") && caOnly.tlsServerName == nil)
    }

    @Test func badOptionsStopTheStartNamingTheLine() {
        #expect(
            error("kubernetes {\n  podz insecure\n}") == "Corefile:3 - Error during parsing: plugin/kubernetes: unknown property 'podz'")
        #expect(
            error("kubernetes {\n  pods maybe\n}")
                == "Corefile:3 - Error during parsing: plugin/kubernetes: pods mode 'maybe' is not one of disabled, insecure, verified")
        #expect(
            error("kubernetes {\n  ttl 7200\n}")
                == "Corefile:3 - Error during parsing: plugin/kubernetes: ttl '7200' is not a whole number from 0 to 3600")
        #expect(
            error("kubernetes {\n  namespaces prod\n  namespace_labels team=a\n}")
                == "Corefile:2 - Error during parsing: plugin/kubernetes: namespaces and namespace_labels cannot both be set")
        #expect(
            error("kubernetes {\n  labels app in (a\n}")
                == "Corefile:3 - Error during parsing: plugin/kubernetes: unable to parse label selector value: 'app in (a': "
                + "expected ')' to close the set of values at character 10 of 'app in (a'")
        #expect(
            error("kubernetes {\n  ignore empty_services\n}")
                == "Corefile:3 - Error during parsing: plugin/kubernetes: unable to parse ignore value: 'empty_services'")
        #expect(
            error("kubernetes {\n  noendpoints please\n}")
                == "Corefile:3 - Error during parsing: plugin/kubernetes: 'noendpoints' takes no arguments, not 1")
        #expect(
            error("kubernetes {\n  namespaces\n}")
                == "Corefile:3 - Error during parsing: plugin/kubernetes: 'namespaces' takes at least 1 argument, not none")
        #expect(error("forward .") == "Corefile:2 - Error during parsing: plugin/forward: 'forward' takes at least 2 arguments, not 1")
        #expect(error("forward . 8.8.8.8:99999") == "Corefile:2 - Error during parsing: plugin/forward: 8.8.8.8:99999: bad port")
        #expect(
            error("forward . dns.google")
                == "Corefile:2 - Error during parsing: plugin/forward: dns.google: not an IP address, dns://address, tls://address or resolv.conf path"
        )
        #expect(
            error("forward . tls://1.1.1.1:99999")
                == "Corefile:2 - Error during parsing: plugin/forward: tls://1.1.1.1:99999: bad port")
        #expect(
            error("forward . 1.1.1.1 {\n force_tcp\n prefer_udp\n}")
                == "Corefile:2 - Error during parsing: plugin/forward: force_tcp and prefer_udp cannot be used together")
        #expect(
            error("forward . 1.1.1.1 {\n expire soon\n}")
                == "Corefile:3 - Error during parsing: plugin/forward: expire 'soon' is not a duration (such as 30s, 5m, 1h30m)")
        #expect(error("cache 0") == "Corefile:2 - Error during parsing: plugin/cache: cache TTL must be above 0")
        #expect(
            error("cache {\n disable everything\n}")
                == "Corefile:3 - Error during parsing: plugin/cache: disable 'everything' is not one of success, denial")
        #expect(error("reload 1s") == "Corefile:2 - Error during parsing: plugin/reload: interval cannot be under 2s")
        #expect(error("loop\nloop") == "Corefile:3 - Error during parsing: plugin/loop: this plugin can only be used once per Server Block")
        #expect(error("dnssec") == "Corefile:2 - Error during parsing: plugin/dnssec: not supported by this server")
        #expect(
            error("health {\n lameduck\n}") == "Corefile:3 - Error during parsing: plugin/health: 'lameduck' takes 1 argument, not none")
    }
}

@Suite struct GoDurationTextTests {
    @Test func readsGosDurations() {
        #expect(GoDurationText.parse("1m30s") == .seconds(90))
        #expect(GoDurationText.parse("500ms") == .milliseconds(500))
        #expect(GoDurationText.parse("1.5h") == .seconds(5400))
        #expect(GoDurationText.parse("250us") == .microseconds(250))
        #expect(GoDurationText.parse("0") == .zero)
        #expect(GoDurationText.parse("30") == nil)
        #expect(GoDurationText.parse("5x") == nil)
        #expect(GoDurationText.parse("") == nil)
    }
}
