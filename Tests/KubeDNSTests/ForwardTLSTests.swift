import Foundation
import TestSupport
import Testing

/// forward to `tls://` upstreams (RFC 7858) against a real Unbound serving
/// DNS over TLS with a certificate of a CA the test makes.
@Suite(.serialized) struct ForwardTLSTests {
    static func withUpstream(_ body: (UpstreamServer, TestCertificates) throws -> Void) throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: ForwardingTests.zone, tls: certificates)
        defer { upstream.stop() }
        try body(upstream, certificates)
    }

    static func serve(_ forward: String) throws -> ServerProcess {
        let (server, _) = try CorefilePluginTests.serve(".:0 {\n\(forward)\nkubernetes cluster.local\nprometheus 127.0.0.1:0\n}")
        return server
    }

    @Test func answersComeOverTLSOnConnectionsKeptOpen() throws {
        try Self.withUpstream { upstream, certificates in
            let tlsPort = try #require(upstream.tlsPort)
            let server = try Self.serve(
                "forward . tls://127.0.0.1:\(tlsPort) {\n tls \(certificates.caPath)\n tls_servername dns.test\n}")
            defer { server.stop() }
            for tcp in [false, true, false, false, false, false] {
                let reply = try Dig.query("www.example.test.", "A", port: server.port, tcp: tcp)
                #expect(reply.normalized.answer == ["www.example.test. 300 in a 192.0.2.10"], "\(reply.output)")
            }
            #expect(upstream.queries("www.example.test.", "A") == 6)
            let samples = try MetricsTests.scrape(try #require(server.ports["metrics"])).samples
            let opened = try #require(samples["kube_dns_forward_tls_connections_total"])
            let reused = try #require(samples["kube_dns_forward_tls_reused_total"])
            // A connection per worker (and the loop probe's) at most; the other queries reused one.
            #expect(opened >= 1 && opened <= 3 && reused >= 4, "opened \(opened), reused \(reused)")
        }
    }

    @Test func theCertificateIsCheckedAgainstTheAddressWithoutAName() throws {
        try Self.withUpstream { upstream, certificates in
            let tlsPort = try #require(upstream.tlsPort)
            // And a client certificate offered (Unbound asks for none).
            let server = try Self.serve(
                "forward . tls://127.0.0.1:\(tlsPort) {\n tls \(certificates.clientCertificatePath) \(certificates.clientKeyPath) \(certificates.caPath)\n}"
            )
            defer { server.stop() }
            let reply = try Dig.query("mail.example.test.", "A", port: server.port)
            #expect(reply.normalized.answer == ["mail.example.test. 300 in a 192.0.2.25"], "\(reply.output)")
        }
    }

    @Test(arguments: ["wrong name", "other CA"])
    func aCertificateThatFailsTheCheckIsNeverAsked(_ failure: String) throws {
        try Self.withUpstream { upstream, certificates in
            let other = try TestCertificates()
            defer { other.remove() }
            let tlsPort = try #require(upstream.tlsPort)
            let options =
                failure == "wrong name"
                ? " tls \(certificates.caPath)\n tls_servername wrong.test" : " tls \(other.caPath)\n tls_servername dns.test"
            let server = try Self.serve("forward . tls://127.0.0.1:\(tlsPort) {\n\(options)\n}")
            defer { server.stop() }
            let reply = try Dig.query("www.example.test.", "A", port: server.port)
            #expect(reply.rcode == "SERVFAIL", "\(reply.output)")
            #expect(upstream.queries("www.example.test.", "A") == 0)
        }
    }

    @Test(arguments: [
        ("forward . tls://1.1.1.1 {\n tls a b c d\n}", "plugin/forward: 'tls' takes 0 to 3 arguments, not 4"),
        (
            "forward . tls://dns.google",
            "plugin/forward: tls://dns.google: not an IP address, dns://address, tls://address or resolv.conf path"
        ),
        ("forward . tls://1.1.1.1 {\n tls_servername\n}", "plugin/forward: 'tls_servername' takes 1 argument, not none"),
    ])
    func badTLSOptionsStopTheStart(_ body: String, _ message: String) throws {
        let result = try ServerProcess.refusing(corefile: ".:0 {\n\(body)\n}\n")
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
