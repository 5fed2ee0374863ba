import Foundation
import TestSupport
import Testing

/// The rewrite plugin, asserted by answers: the client always sees the
/// question it asked, names are mapped back as the rules ask, and what the
/// upstream saw is counted.
@Suite(.serialized) struct RewriteTests {
    @Test func anExactRuleAnswersWithTheClientsName() throws {
        try CorefilePluginTests.withUnbound("rewrite name exact api.example. kubernetes.default.svc.cluster.local.") { server, _ in
            for tcp in [false, true] {
                let reply = try Dig.query("API.example.", "A", port: server.port, tcp: tcp)
                #expect(reply.question == ["API.example.\t\t\tIN\tA"], "\(reply.output)")
                #expect(reply.normalized.answer == ["api.example. 5 in a 10.0.0.1"], "\(reply.output)")
                #expect(reply.flags.contains("aa"))
            }
            // A name no rule matches goes on as it is.
            #expect(
                try Dig.query("www.example.test.", "A", port: server.port).normalized.answer == ["www.example.test. 300 in a 192.0.2.10"])
        }
    }

    @Test func aRegexRuleWithGroupsAndAnswerAuto() throws {
        let rule = #"rewrite name regex ^([a-z]+)-(prod|default)\.corp\.example\.$ {1}.{2}.svc.cluster.local answer auto"#
        try CorefilePluginTests.withUnbound(rule) { server, upstream in
            let reply = try Dig.query("web-prod.corp.example.", "A", port: server.port)
            #expect(reply.normalized.answer == ["web-prod.corp.example. 5 in a 10.0.1.1"], "\(reply.output)")
            // The pattern is anchored: a name that holds a match after its
            // first label is not rewritten (unanchored, it would answer
            // kubernetes.default's address) and goes upstream as it was.
            let outside = try Dig.query("x.kubernetes-default.corp.example.", "A", port: server.port)
            #expect(outside.normalized.answer.isEmpty, "\(outside.output)")
            #expect(upstream.queries("x.kubernetes-default.corp.example.", "A") == 1)
        }
    }

    @Test func aSuffixRuleMapsNamesInRecordsBack() throws {
        try CorefilePluginTests.withUnbound("rewrite name suffix .legacy. .svc.cluster.local. answer auto") { server, _ in
            let reply = try Dig.query("_https._tcp.kubernetes.default.legacy.", "SRV", port: server.port)
            #expect(
                reply.normalized.answer == ["_https._tcp.kubernetes.default.legacy. 5 in srv 0 100 443 kubernetes.default.legacy."],
                "\(reply.output)")
            #expect(reply.normalized.additional == ["kubernetes.default.legacy. 5 in a 10.0.0.1"])
        }
    }

    @Test func aForwardedRewriteIsAskedUpstreamUnderTheNewName() throws {
        try CorefilePluginTests.withUnbound("rewrite name suffix .old.test. .example.test. answer auto", cache: true) { server, upstream in
            for tcp in [false, true] {
                let reply = try Dig.query("www.old.test.", "A", port: server.port, tcp: tcp)
                #expect(reply.question == ["www.old.test.\t\t\tIN\tA"], "\(reply.output)")
                #expect(reply.normalized.answer.first?.hasPrefix("www.old.test. ") == true, "\(reply.output)")
                #expect(reply.normalized.answer.first?.hasSuffix(" in a 192.0.2.10") == true, "\(reply.output)")
            }
            // Once upstream; the second came from the cache, mapped back the same.
            #expect(upstream.queries("www.example.test.", "A") == 1)
            #expect(upstream.queries("www.old.test.", "A") == 0)
        }
    }

    @Test func answerNameRulesAndTTLRulesRewriteTheReply() throws {
        let rules = #"""
            rewrite stop {
                name regex ^(.*)\.shop\.$ {1}.example.test
                answer name ^(.*)\.example\.test\.$ {1}.shop
            }
            rewrite ttl exact txt.example.test. 10-60
            """#
        try CorefilePluginTests.withUnbound(rules) { server, _ in
            let reply = try Dig.query("www.shop.", "A", port: server.port)
            #expect(reply.normalized.answer == ["www.shop. 300 in a 192.0.2.10"], "\(reply.output)")
            let capped = try Dig.query("txt.example.test.", "TXT", port: server.port)
            #expect(capped.normalized.answer == [#"txt.example.test. 60 in txt "hello world""#], "\(capped.output)")
        }
    }

    @Test func continueLetsTheNextRuleSeeTheNewName() throws {
        let rules = """
            rewrite continue name exact first.example. second.example.
            rewrite name exact second.example. kubernetes.default.svc.cluster.local.
            rewrite continue type HINFO A
            """
        try CorefilePluginTests.withUnbound(rules) { server, _ in
            #expect(try Dig.query("first.example.", "A", port: server.port).normalized.answer == ["first.example. 5 in a 10.0.0.1"])
            // A stop rule that matched ends the rules: the type rule does not run.
            let stopped = try Dig.query("second.example.", "HINFO", port: server.port)
            #expect(stopped.rcode == "NOERROR" && stopped.normalized.answer.isEmpty, "\(stopped.output)")
            // A name the stop rule does not match reaches it.
            let hinfo = try Dig.query("kubernetes.default.svc.cluster.local.", "HINFO", port: server.port)
            #expect(hinfo.question == ["kubernetes.default.svc.cluster.local. IN HINFO"], "\(hinfo.output)")
            #expect(hinfo.normalized.answer == ["kubernetes.default.svc.cluster.local. 5 in a 10.0.0.1"], "\(hinfo.output)")
        }
    }

    @Test func aRuleThatMakesNoNameGetsServfail() throws {
        let long = String(repeating: "x", count: 70)
        try CorefilePluginTests.withUnbound("rewrite name regex ^(.*)\\.bad\\.$ \(long).{1}") { server, _ in
            let reply = try Dig.query("a.bad.", "A", port: server.port)
            #expect(reply.rcode == "SERVFAIL", "\(reply.output)")
            #expect(reply.question == ["a.bad.\t\t\t\tIN\tA"], "\(reply.output)")
        }
    }

    @Test(arguments: [
        ("rewrite name", "plugin/rewrite: too few arguments for a name rule"),
        (
            "rewrite name fuzzy a. b.",
            "plugin/rewrite: name rule supports only exact, prefix, suffix, substring, and regex name matching, received: fuzzy"
        ),
        ("rewrite name regex (a b.", "plugin/rewrite: invalid regex pattern '(a': "),
        ("rewrite name regex (?i)a b.", "plugin/rewrite: invalid regex pattern '(?i)a': (?...) groups and flags are Go's"),
        ("rewrite type AAAA BOGUS", "plugin/rewrite: invalid type \"BOGUS\""),
        ("rewrite ttl a. 30-x", "plugin/rewrite: invalid TTL '30-x' for a ttl rule"),
        ("rewrite name suffix a. b. answer name x", "plugin/rewrite: name answer rule for suffix rule: 2 arguments required"),
        ("rewrite edns0 local set 0xffee 0x61", "plugin/rewrite: rule type 'edns0' is not supported by this server"),
        (
            "rewrite name suffix .a. " + String(repeating: "x", count: 1100),
            "plugin/rewrite: '" + String(repeating: "x", count: 40) + "...' is longer than any name"
        ),
    ])
    func badRulesStopTheStart(_ line: String, _ message: String) throws {
        let result = try ServerProcess.refusing(corefile: ".:0 {\n\(line)\n}\n")
        #expect(result.status != 0)
        #expect(result.stderr.contains(":2 - Error during parsing: \(message)"), "\(result.stderr)")
    }
}
