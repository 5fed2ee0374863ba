import Corefile
import DNSModel
import Foundation
import Testing

@Suite struct CorefileTests {
    func parse(_ text: String, files: [String: String] = [:], environment: [String: String] = [:]) throws -> Corefile {
        try Corefile(path: "/etc/coredns/Corefile", text: text, files: MemoryFiles(files: files), environment: environment)
    }

    func error(_ text: String, files: [String: String] = [:]) -> String {
        do {
            _ = try parse(text, files: files)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// kubeadm's default Corefile, as its ConfigMap holds it.
    static let kubeadm = """
        .:53 {
            errors
            health {
               lameduck 5s
            }
            ready
            kubernetes cluster.local in-addr.arpa ip6.arpa {
               pods insecure
               fallthrough in-addr.arpa ip6.arpa
               ttl 30
            }
            prometheus :9153
            forward . /etc/resolv.conf {
               max_concurrent 1000
            }
            cache 30 {
               disable success cluster.local
               disable denial cluster.local
            }
            loop
            reload
            loadbalance
        }
        """

    @Test func kubeadmsDefaultReadsIntoOneBlockOfDirectives() throws {
        let corefile = try parse(Self.kubeadm)
        let block = try #require(corefile.serverBlocks.first)
        #expect(corefile.serverBlocks.count == 1)
        #expect(block.keys.map(\.description) == ["dns://.:53"])
        #expect(
            block.directives.map(\.name) == [
                "errors", "health", "ready", "kubernetes", "prometheus", "forward", "cache", "loop", "reload", "loadbalance",
            ])
        let kubernetes = block.directives[3]
        #expect(kubernetes.arguments == ["cluster.local", "in-addr.arpa", "ip6.arpa"])
        #expect(kubernetes.location.line == 7)
        #expect(kubernetes.block?.map(\.name) == ["pods", "fallthrough", "ttl"])
        #expect(kubernetes.block?[1].arguments == ["in-addr.arpa", "ip6.arpa"])
        #expect(block.directives[6].block?.map(\.arguments) == [["success", "cluster.local"], ["denial", "cluster.local"]])
        #expect(block.directives[1].block == [Directive("lameduck", ["5s"], at: .init(file: "/etc/coredns/Corefile", line: 4))])
        #expect(block.directives[7].block == nil)
    }

    @Test func keysTakeZonesPortsAndTheDNSScheme() throws {
        let corefile = try parse(
            """
            cluster.local:53 dns://Example.ORG:1053 {
                whoami
            }
            example.org, example.net {
            }
            10.0.0.0/8 10.0.0.0/24:5353 fd00::/16 {
            }
            """)
        #expect(
            corefile.serverBlocks.map { $0.keys.map(\.description) } == [
                ["dns://cluster.local.:53", "dns://example.org.:1053"],
                ["dns://example.org.:53", "dns://example.net.:53"],
                ["dns://10.in-addr.arpa.:53", "dns://0.0.10.in-addr.arpa.:5353", "dns://0.0.d.f.ip6.arpa.:53"],
            ])
        #expect(corefile.serverBlocks[0].keys[0].port == 53)
        #expect(corefile.serverBlocks[1].directives.isEmpty)
    }

    @Test func aNetworkOffALabelBoundaryStandsForEveryZoneBelowIt() throws {
        let keys = try parse("10.0.16.0/20 {\n}").serverBlocks[0].keys
        #expect(keys.count == 16)
        #expect(keys.first?.zone == (try DNSName("16.0.10.in-addr.arpa")))
        #expect(keys.last?.zone == (try DNSName("31.0.10.in-addr.arpa")))
    }

    @Test func commentsQuotesAndEnvironmentVariables() throws {
        let corefile = try parse(
            """
            # the cluster
            .:{$PORT} {   # a comment after the key
                template IN A "a b" "say \\"hi\\" # not a comment" {%ZONE%} {$UNSET}x
            }
            """, environment: ["PORT": "1053", "ZONE": "cluster.local"])
        let block = corefile.serverBlocks[0]
        #expect(block.keys.map(\.description) == ["dns://.:1053"])
        #expect(
            block.directives == [
                Directive(
                    "template", ["IN", "A", "a b", "say \"hi\" # not a comment", "cluster.local", "x"],
                    at: .init(file: "/etc/coredns/Corefile", line: 3))
            ])
    }

    @Test func importsFilesGlobsAndSnippetsInPlace() throws {
        let corefile = try parse(
            """
            (common) {
                errors
                log {args[0]}
            }
            import servers/*.server
            .:53 {
                import common denial
                import common success
                import custom/*.override
                import extra.conf
            }
            """,
            files: [
                "/etc/coredns/servers/a.server": "a.test {\n    whoami\n}\n",
                "/etc/coredns/servers/b.server": "b.test {\n    import /etc/coredns/extra.conf\n}\n",
                "/etc/coredns/extra.conf": "cache 30\n",
            ])
        #expect(corefile.serverBlocks.map { $0.keys.map(\.description) } == [["dns://a.test.:53"], ["dns://b.test.:53"], ["dns://.:53"]])
        #expect(corefile.serverBlocks[1].directives.map(\.name) == ["cache"])
        let root = corefile.serverBlocks[2].directives
        #expect(root.map(\.name) == ["errors", "log", "errors", "log", "cache"])
        #expect(root[1].arguments == ["denial"])
        #expect(root[3].arguments == ["success"])
        #expect(root[4].location == .init(file: "/etc/coredns/extra.conf", line: 1))
    }

    @Test func errorsNameTheFileTheLineAndWhatIsWrong() {
        #expect(
            error(".:53 {\n    errors\n")
                == "/etc/coredns/Corefile:2 - Error during parsing: Unexpected EOF: the block opened at line 1 is not closed")
        #expect(error("}\n") == "/etc/coredns/Corefile:1 - Error during parsing: Unexpected '}': no block is open")
        #expect(
            error(".:53\nerrors {\n}")
                == "/etc/coredns/Corefile:2 - Error during parsing: Expected '{' after the server block's keys, found 'errors'")
        #expect(
            error("tls://.:853 {\n}")
                == "/etc/coredns/Corefile:1 - Error during parsing: tls://.:853: the tls:// scheme is not supported, only dns://")
        #expect(error("gopher://. {\n}") == "/etc/coredns/Corefile:1 - Error during parsing: gopher://.: unknown scheme gopher://")
        #expect(error(".:99999 {\n}") == "/etc/coredns/Corefile:1 - Error during parsing: .:99999: bad port '99999'")
        #expect(error("10.0.0.0/40 {\n}") == "/etc/coredns/Corefile:1 - Error during parsing: 10.0.0.0/40: bad prefix length")
        #expect(
            error(".:53 {\n}\n\n.:53 {\n}")
                == "/etc/coredns/Corefile:4 - Error during parsing: cannot serve dns://.:53 - zone already defined for dns://.:53 at /etc/coredns/Corefile:1"
        )
        #expect(
            error(".:53 {\n    import missing.conf\n}")
                == "/etc/coredns/Corefile:2 - Error during parsing: Could not import missing.conf: no such file or snippet")
        #expect(
            error(".:53 {\n    import\n}") == "/etc/coredns/Corefile:2 - Error during parsing: import needs a file, a glob or a snippet")
        #expect(
            error(".:53 {\n    forward . \"8.8.8.8\n}")
                == "/etc/coredns/Corefile:2 - Error during parsing: Unexpected EOF: a quoted token is not closed")
        #expect(
            error("import a.conf", files: ["/etc/coredns/a.conf": "import b.conf", "/etc/coredns/b.conf": "import a.conf"])
                == "/etc/coredns/b.conf:1 - Error during parsing: import a.conf: import cycle (/etc/coredns/Corefile imports /etc/coredns/a.conf imports /etc/coredns/b.conf imports /etc/coredns/a.conf)"
        )
        #expect(
            error("(loop) {\n    import loop\n}\n.:53 {\n    import loop\n}").hasSuffix(
                "imports nested too deep (a snippet importing itself?)"))
    }

    @Test func oneZoneOnTwoPortsIsTwoServersAndAKeyWithoutAPortTakesTheDefault() throws {
        #expect(try parse(".:53 {\n}\n.:1053 {\n}").serverBlocks.count == 2)
        #expect(
            error(".:53 {\n}\n. {\n}").hasSuffix("cannot serve dns://.:53 - zone already defined for dns://.:53 at /etc/coredns/Corefile:1")
        )
        let moved = try Corefile(path: "Corefile", text: ". {\n}\n.:53 {\n}", files: MemoryFiles(files: [:]), defaultPort: 1053)
        #expect(moved.serverBlocks.map { $0.keys.map(\.description) } == [["dns://.:1053"], ["dns://.:53"]])
    }
}

@Suite struct PluginOrderTests {
    @Test func theChainFollowsCoreDNSsOrderNotTheWrittenOne() throws {
        let block = try Corefile(path: "Corefile", text: CorefileTests.kubeadm, files: MemoryFiles(files: [:])).serverBlocks[0]
        #expect(
            try block.pluginChain().map(\.name) == [
                "reload", "ready", "health", "prometheus", "errors", "loadbalance", "cache", "kubernetes", "loop", "forward",
            ])
    }

    @Test func anUnknownPluginNamesItsLine() throws {
        let block = try Corefile(
            path: "Corefile", text: ".:53 {\n    errors\n    kubernets cluster.local\n}", files: MemoryFiles(files: [:])
        )
        .serverBlocks[0]
        #expect(throws: CorefileError("Unknown directive 'kubernets'", at: .init(file: "Corefile", line: 3))) { try block.pluginChain() }
    }
}

@Suite struct LocalCorefileFilesTests {
    @Test func importsAGlobOfTheMachinesFilesRelativeToTheCorefile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corefile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/custom", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "b.test {\n}\n".write(toFile: directory + "/custom/b.server", atomically: true, encoding: .utf8)
        try "a.test {\n}\n".write(toFile: directory + "/custom/a.server", atomically: true, encoding: .utf8)
        try "ignored.test {\n}\n".write(toFile: directory + "/custom/c.override", atomically: true, encoding: .utf8)
        let text = "import custom/*.server\nimport none/*.server\n"
        let corefile = try Corefile(path: directory + "/Corefile", text: text)
        #expect(corefile.serverBlocks.map { $0.keys.map(\.description) } == [["dns://a.test.:53"], ["dns://b.test.:53"]])
    }
}
