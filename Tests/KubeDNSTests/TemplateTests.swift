import Foundation
import TestSupport
import Testing

/// The template plugin, asserted by answers and by what reached the
/// upstream (Unbound with example.test).
@Suite(.serialized) struct TemplateTests {
    @Test func theAAAAFilterAnswersNodataWithoutTheUpstream() throws {
        try CorefilePluginTests.withUnbound("template ANY AAAA {\n  rcode NOERROR\n}") { server, upstream in
            for tcp in [false, true] {
                let reply = try Dig.query("www.example.test.", "AAAA", port: server.port, tcp: tcp)
                #expect(reply.rcode == "NOERROR" && reply.answer.isEmpty && reply.flags.contains("aa"), "\(reply.output)")
            }
            // Cluster names too, a dual-stack service's: the template comes before the kubernetes plugin.
            #expect(try Dig.query("dual.prod.svc.cluster.local.", "AAAA", port: server.port).answer.isEmpty)
            #expect(upstream.queries("www.example.test.", "AAAA") == 0)
            // Other types go on as before.
            #expect(
                try Dig.query("www.example.test.", "A", port: server.port).normalized.answer == ["www.example.test. 300 in a 192.0.2.10"])
            #expect(upstream.queries("www.example.test.", "A") == 1)
        }
    }

    @Test func namedGroupsFillTheRecordsOfEverySection() throws {
        let template = #"""
            template IN A example {
                match "^ip-(?P<a>[0-9]+)-(?P<b>[0-9]+)-(?P<c>[0-9]+)-(?P<d>[0-9]+)[.]example[.]$"
                match "^(?P<d>[0-9]+)[.](?P<c>[0-9]+)[.](?P<b>[0-9]+)[.](?P<a>[0-9]+)[.]rev[.]example[.]$"
                answer "{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
                authority "example. 60 IN NS ns0.example."
                additional "ns0.example. 60 IN A 203.0.113.8"
                fallthrough
            }
            """#
        try CorefilePluginTests.withUnbound(template) { server, upstream in
            let reply = try Dig.query("ip-10-1-2-3.example.", "A", port: server.port)
            #expect(reply.normalized.answer == ["ip-10-1-2-3.example. 60 in a 10.1.2.3"], "\(reply.output)")
            #expect(reply.normalized.authority == ["example. 60 in ns ns0.example."])
            #expect(reply.normalized.additional == ["ns0.example. 60 in a 203.0.113.8"])
            #expect(reply.flags.contains("aa"))
            // The second pattern numbers its groups otherwise; the names still fit.
            let reversed = try Dig.query("3.2.1.10.rev.example.", "A", port: server.port)
            #expect(reversed.normalized.answer == ["3.2.1.10.rev.example. 60 in a 10.1.2.3"], "\(reversed.output)")
            // No pattern matches and it falls through: on to the upstream.
            _ = try Dig.query("other.example.", "A", port: server.port)
            #expect(upstream.queries("other.example.", "A") == 1)
        }
    }

    @Test func theFieldsOfAQuery() throws {
        let template = #"""
            template IN TXT whoami.test {
                match ^([a-z]+)[.]whoami[.]test[.]$
                answer "{{ .Name }} 0 {{ .Class }} TXT \"{{ .Remote }}\" \"{{ .Type }}\" \"{{ .Zone }}\" \"{{ index .Match 1 }}\""
            }
            """#
        try CorefilePluginTests.withUnbound(template) { server, _ in
            let reply = try Dig.query("me.whoami.test.", "TXT", port: server.port)
            #expect(reply.normalized.answer == [#"me.whoami.test. 0 in txt "127.0.0.1" "txt" "whoami.test." "me""#], "\(reply.output)")
            // A name of its zone that no pattern matches, without fallthrough: SERVFAIL.
            #expect(try Dig.query("a.b.whoami.test.", "TXT", port: server.port).rcode == "SERVFAIL")
            // Another type is not its own: it goes on.
            #expect(try Dig.query("me.whoami.test.", "A", port: server.port).rcode != "NOERROR")
        }
    }

    @Test func anRcodeWithAnAuthorityRecord() throws {
        let template = #"""
            template ANY ANY invalid {
                rcode NXDOMAIN
                authority "invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"
            }
            """#
        try CorefilePluginTests.withUnbound(template) { server, _ in
            let reply = try Dig.query("anything.invalid.", "A", port: server.port)
            #expect(reply.rcode == "NXDOMAIN", "\(reply.output)")
            #expect(reply.normalized.authority == ["invalid. 60 in soa ns.invalid. hostmaster.invalid. serial 60 60 60 60"])
        }
    }

    @Test func aCNAMEAnswerIsFollowedUpstream() throws {
        let template = #"""
            template IN A foogle.test {
                match ^foogle[.]test[.]$
                answer "foogle.test 60 IN CNAME www.example.test"
            }
            """#
        try CorefilePluginTests.withUnbound(template) { server, upstream in
            let reply = try Dig.query("foogle.test.", "A", port: server.port)
            #expect(
                reply.normalized.answer == ["foogle.test. 60 in cname www.example.test.", "www.example.test. 300 in a 192.0.2.10"],
                "\(reply.output)")
            #expect(upstream.queries("www.example.test.", "A") == 1)
        }
    }

    @Test func matchesAreCounted() throws {
        let (server, _) = try CorefilePluginTests.serve(
            ".:0 {\ntemplate ANY AAAA {\nrcode NOERROR\n}\nprometheus 127.0.0.1:0\nkubernetes cluster.local\n}\n")
        defer { server.stop() }
        for _ in 0..<3 { _ = try Dig.query("kubernetes.default.svc.cluster.local.", "AAAA", port: server.port) }
        let metrics = try MetricsTests.scrape(try #require(server.ports["metrics"]))
        let matches = metrics.samples.first { $0.key.hasPrefix("coredns_template_matches_total") }
        #expect(matches?.value == 3, "\(metrics.text)")
        #expect(metrics.text.contains(#"plugin="template""#), "\(metrics.text)")
    }

    @Test(arguments: [
        (
            "template IN A {\n answer \"{{ .Message }}\"\n}",
            "plugin/template: could not compile template: {{ .Message }}: template construct '{{ .Message }}' is not supported by this server"
        ),
        (
            "template IN A {\n answer \"{{ parseInt .Group.b 16 8 }}\"\n}",
            "template construct '{{ parseInt .Group.b 16 8 }}' is not supported by this server"
        ),
        ("template XX A", "plugin/template: invalid query class XX"),
        ("template IN BOGUS", "plugin/template: invalid RR class BOGUS"),
        ("template IN A {\n match (a\n}", "plugin/template: could not parse regex: (a, "),
        ("template IN A {\n rcode MAYBE\n}", "plugin/template: unknown rcode MAYBE"),
        ("template IN A {\n var ip group('ip')\n}", "plugin/template: property 'var' is not supported by this server"),
    ])
    func badTemplatesStopTheStart(_ body: String, _ message: String) throws {
        let result = try ServerProcess.refusing(corefile: ".:0 {\n\(body)\n}\n")
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
