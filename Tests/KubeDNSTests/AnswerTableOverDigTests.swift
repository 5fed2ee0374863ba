import Foundation
import TestSupport
import Testing

/// The answer table (answers.txt) against the real binary, asked with dig
/// over UDP and TCP.
@Suite(.kubeDNS(["--kube-objects", Fixtures.clusterPath, "--threads", "2"]))
struct AnswerTableOverDigTests {
    static let rows = (try? Fixtures.expectedAnswers()) ?? []

    @Test(arguments: rows, [false, true])
    func answer(_ row: ExpectedAnswer, tcp: Bool) throws {
        let server = try ServerProcess.current
        let reply = try Dig.query(row.name, row.type, port: server.port, tcp: tcp)
        #expect(reply.rcode == row.rcode, "\(reply.output)")
        let sections = reply.normalized
        #expect(sections.answer == row.answer.sorted())
        #expect(sections.authority == row.authority.sorted())
        #expect(sections.additional == row.additional.sorted())
        // Our answers are authoritative; what is not ours is not.
        #expect(reply.flags.contains("aa") == (row.rcode != "REFUSED"))
        #expect(reply.flags.contains("qr"))
    }

    @Test func theQuestionKeepsTheClientsCase() throws {
        let server = try ServerProcess.current
        for tcp in [false, true] {
            let reply = try Dig.query("KuBeRnEtEs.Default.SVC.cluster.LOCAL.", "A", port: server.port, tcp: tcp)
            #expect(reply.question.first?.hasPrefix("KuBeRnEtEs.Default.SVC.cluster.LOCAL.") == true)
            #expect(reply.rcode == "NOERROR")
            #expect(reply.normalized.answer == ["kubernetes.default.svc.cluster.local. 30 in a 10.0.0.1"])
            let missing = try Dig.query("NoSuch.Default.SVC.cluster.local.", "A", port: server.port, tcp: tcp)
            #expect(missing.question.first?.hasPrefix("NoSuch.Default.SVC.cluster.local.") == true)
            #expect(missing.rcode == "NXDOMAIN")
        }
    }

    @Test func podNamesAreSynthesisedInExistingNamespaces() throws {
        let port = try ServerProcess.current.port
        let a = try Dig.query("10-1-5-5.prod.pod.cluster.local.", "A", port: port)
        #expect(a.rcode == "NOERROR")
        #expect(a.normalized.answer == ["10-1-5-5.prod.pod.cluster.local. 30 in a 10.1.5.5"])
        let v6 = try Dig.query("fd00--1.prod.pod.cluster.local.", "AAAA", port: port)
        #expect(v6.normalized.answer == ["fd00--1.prod.pod.cluster.local. 30 in aaaa fd00::1"])
        let nodata = try Dig.query("10-1-5-5.prod.pod.cluster.local.", "AAAA", port: port)
        #expect(nodata.rcode == "NOERROR")
        #expect(nodata.answer.isEmpty && nodata.authority.count == 1)
        #expect(try Dig.query("not-an-ip.prod.pod.cluster.local.", "A", port: port).rcode == "NXDOMAIN")
        #expect(try Dig.query("10-1-5-5.nosuch.pod.cluster.local.", "A", port: port).rcode == "NXDOMAIN")
        #expect(try Dig.query("10-1-5-500.prod.pod.cluster.local.", "A", port: port).rcode == "NXDOMAIN")
        #expect(try Dig.query("pod.cluster.local.", "A", port: port).rcode == "NOERROR")
    }

    @Test func addressesOfAHeadlessServiceComeInTurns() throws {
        let port = try ServerProcess.current.port
        var firsts: Set<String> = []
        for _ in 0..<24 {
            let reply = try Dig.query("db.prod.svc.cluster.local.", "A", port: port)
            #expect(reply.normalized.answer.count == 2)
            if let first = reply.answer.first { firsts.insert(ExpectedAnswer.normalize(first)) }
        }
        // dig picks a random ID per query, and the ID picks the first address.
        #expect(firsts.count == 2)
    }

    @Test func ednsIsEchoedWithOurBufferSize() throws {
        let port = try ServerProcess.current.port
        let withEDNS = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: port, options: ["+bufsize=4096"])
        #expect(withEDNS.ednsUDPSize == 1232)
        let without = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: port, options: ["+noedns"])
        #expect(without.ednsUDPSize == nil)
        #expect(without.rcode == "NOERROR")
        let badVersion = try Dig.query(
            "kubernetes.default.svc.cluster.local.", "A", port: port, options: ["+edns=1", "+noednsnegotiation"])
        #expect(badVersion.rcode == "BADVERS")
    }

    @Test func aLargeAnswerIsTruncatedOverUDPAndWholeOverTCP() throws {
        let port = try ServerProcess.current.port
        let udp = try Dig.query("big.prod.svc.cluster.local.", "A", port: port, options: ["+ignore"])
        #expect(udp.flags.contains("tc"))
        // The addresses that fit in dig's 1232 bytes: (1232 - 44 - 11) / 16.
        #expect(udp.answer.count == 73)
        let tcp = try Dig.query("big.prod.svc.cluster.local.", "A", port: port, tcp: true)
        #expect(!tcp.flags.contains("tc"))
        #expect(tcp.answer.count == 200)
        // dig falls back to TCP by itself when told TC.
        let fallback = try Dig.query("big.prod.svc.cluster.local.", "A", port: port)
        #expect(fallback.answer.count == 200)
    }
}
