import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Raw packets over UDP and TCP: framing, pipelining, malformed input.
@Suite(.kubeDNS(["--kube-objects", Fixtures.clusterPath, "--threads", "2", "--tcp-idle-timeout", "1"]))
struct RawTransportTests {
    let names = [
        "kubernetes.default.svc.cluster.local", "web.prod.svc.cluster.local", "nosuch.prod.svc.cluster.local",
        "_pg._tcp.db.prod.svc.cluster.local", "example.com", "big.prod.svc.cluster.local",
    ]

    @Test func tenPipelinedQueriesOnOneConnectionAreAnsweredInOrder() throws {
        let socket = try LoopbackSocket(tcp: true, port: try ServerProcess.current.port)
        var batch: [UInt8] = []
        for i in 0..<10 {
            let query = QueryPacket.make(id: UInt16(1000 + i), name: names[i % names.count], type: 1)
            batch += [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
        }
        socket.send(batch)
        for i in 0..<10 {
            let reply = try #require(socket.receiveFramed())
            #expect(Int(reply[0]) << 8 | Int(reply[1]) == 1000 + i)
            #expect(ReplyCheck.problem(reply: reply, query: []) == nil)
        }
        // The 200-address answer is whole over TCP.
        let big = QueryPacket.make(id: 7, name: "big.prod.svc.cluster.local", type: 1)
        socket.sendFramed(big)
        let reply = try #require(socket.receiveFramed())
        #expect(ReplyCheck.count(reply, section: 1) == 200)
    }

    @Test func anIdleConnectionIsClosed() throws {
        let socket = try LoopbackSocket(tcp: true, port: try ServerProcess.current.port, timeoutMilliseconds: 5000)
        socket.sendFramed(QueryPacket.make(id: 1, name: names[0], type: 1))
        #expect(socket.receiveFramed() != nil)
        #expect(socket.peerClosed())
    }

    @Test func specificMalformedQueries() throws {
        let port = try ServerProcess.current.port
        let socket = try LoopbackSocket(tcp: false, port: port, timeoutMilliseconds: 1000)
        let valid = QueryPacket.make(id: 0x1234, name: "kubernetes.default.svc.cluster.local", type: 1)
        func reply(_ packet: [UInt8]) -> [UInt8]? {
            socket.send(packet)
            return socket.receiveDatagram()
        }
        // No reply: shorter than a header, or a response.
        #expect(reply(Array(valid.prefix(11))) == nil)
        var response = valid
        response[2] |= 0x80
        #expect(reply(response) == nil)
        // NOTIMP: an opcode other than QUERY (here UPDATE, 5).
        var update = valid
        update[2] = 5 << 3
        #expect(reply(update).map(ReplyCheck.rcode) == 4)
        // FORMERR: no question, two questions, a pointer in the name, a name
        // over 255 bytes, a cut question.
        var none = valid
        none[5] = 0
        #expect(reply(none).map(ReplyCheck.rcode) == 1)
        var two = valid
        two[5] = 2
        #expect(reply(two).map(ReplyCheck.rcode) == 1)
        var loop = Array(valid.prefix(12))
        loop += [0xC0, 0x0C, 0, 1, 0, 1]
        #expect(reply(loop).map(ReplyCheck.rcode) == 1)
        let long = QueryPacket.make(
            id: 9, name: Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: "."), type: 1)
        #expect(reply(long).map(ReplyCheck.rcode) == 1)
        #expect(reply(Array(valid.dropLast(2))).map(ReplyCheck.rcode) == 1)
        // FORMERR: a datagram longer than any query (an OPT option of 3000 bytes).
        var huge = valid
        huge[11] = 1
        huge += [0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0x0B, 0xBC, 0xFF, 0x00, 0x0B, 0xB8] + [UInt8](repeating: 7, count: 3000)
        #expect(reply(huge).map(ReplyCheck.rcode) == 1)
        // FORMERR: two OPT records (RFC 6891 §6.1.1), a TSIG that is not the
        // last record, two TSIGs (RFC 8945 §5.1).
        func withAdditional(_ types: [UInt8]) -> [UInt8] {
            var packet = valid
            packet[11] = UInt8(types.count)
            for type in types { packet += [0, 0, type, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1] }
            return packet
        }
        #expect(reply(withAdditional([41, 41])).map(ReplyCheck.rcode) == 1)
        #expect(reply(withAdditional([250, 1])).map(ReplyCheck.rcode) == 1)
        #expect(reply(withAdditional([250, 1, 250])).map(ReplyCheck.rcode) == 1)
        #expect(reply(withAdditional([1, 1])).map(ReplyCheck.rcode) == 0)
        // REFUSED: zone transfer, class CHAOS.
        #expect(reply(QueryPacket.make(id: 3, name: "cluster.local", type: 252)).map(ReplyCheck.rcode) == 5)
        var chaos = QueryPacket.make(id: 4, name: "version.bind", type: 16)
        chaos[chaos.count - 1] = 3
        #expect(reply(chaos).map(ReplyCheck.rcode) == 5)
        // And the server still answers.
        let answer = try #require(reply(valid))
        #expect(ReplyCheck.rcode(answer) == 0)
        #expect(ReplyCheck.count(answer, section: 1) == 1)
    }

    /// An option running past RDLENGTH got NOERROR (RFC 6891 section 7:
    /// malformed, FORMERR); 1,000 options got FORMERR over UDP and NOERROR
    /// over TCP. One rule now, on both transports.
    @Test(arguments: [false, true])
    func ednsOptionsFollowOneRuleOnBothTransports(_ tcp: Bool) throws {
        let port = try ServerProcess.current.port
        let socket = try LoopbackSocket(tcp: tcp, port: port, timeoutMilliseconds: 1000)
        func rcode(_ packet: [UInt8]) -> UInt8? {
            if tcp { socket.sendFramed(packet) } else { socket.send(packet) }
            return (tcp ? socket.receiveFramed() : socket.receiveDatagram()).map(ReplyCheck.rcode)
        }
        func query(options: [UInt8], rdlength: Int? = nil) -> [UInt8] {
            var packet = QueryPacket.make(id: 0x4321, name: "kubernetes.default.svc.cluster.local", type: 1, ednsSize: 1232)
            let length = rdlength ?? options.count
            packet.replaceSubrange((packet.count - 2)..., with: [UInt8(length >> 8), UInt8(length & 0xFF)])
            return packet + options
        }
        // A cookie option (10) of 8 bytes, whole: answered.
        #expect(rcode(query(options: [0, 10, 0, 8] + [UInt8](repeating: 1, count: 8))) == 0)
        // Its length says 12 but the RDATA ends after 8.
        #expect(rcode(query(options: [0, 10, 0, 12] + [UInt8](repeating: 1, count: 8))) == 1)
        // Half an option header.
        #expect(rcode(query(options: [0, 10])) == 1)
        // The same option past RDLENGTH, in a query ldns validates (an extra A record first).
        var unusual = QueryPacket.make(id: 0x4322, name: "kubernetes.default.svc.cluster.local", type: 1)
        unusual[11] = 2
        unusual += [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1]
        unusual += [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 12] + [UInt8](repeating: 1, count: 8)
        #expect(rcode(unusual) == 1)
        // 1,000 empty options (4,000 bytes): longer than any query answered, on both transports.
        #expect(rcode(query(options: Array([[UInt8]](repeating: [0, 65, 0, 0], count: 1000).joined()))) == 1)
        // 100 empty options fit: answered on both.
        #expect(rcode(query(options: Array([[UInt8]](repeating: [0, 65, 0, 0], count: 100).joined()))) == 0)
    }

    @Test func thousandsOfMutatedPacketsOverUDPGetWellFormedRepliesOrNone() throws {
        let port = try ServerProcess.current.port
        // Generous: a loaded CI machine may be slow; a lost reply still fails.
        let socket = try LoopbackSocket(tcp: false, port: port, timeoutMilliseconds: 2000)
        var random = SeededRandom(seed: 0x5EED_0001)
        var answered = 0
        for i in 0..<3000 {
            let base = QueryPacket.make(
                id: UInt16(i), name: names[i % names.count], type: [1, 28, 33, 255][i % 4],
                ednsSize: i % 2 == 0 ? 1232 : nil)
            let packet = PacketMutator.mutate(base, using: &random)
            socket.send(packet)
            // Expect a reply unless the packet is too short or marked as a response.
            guard packet.count >= 12, packet[2] & 0x80 == 0 else { continue }
            let reply = try #require(socket.receiveDatagram(), "no reply to \(packet)")
            #expect(ReplyCheck.problem(reply: reply, query: packet) == nil, "packet \(packet)")
            answered += 1
        }
        #expect(answered > 1000)
        try expectServerStillAnswers(port)
    }

    @Test func mutatedPacketsOverTCPDoNotStopTheServer() throws {
        let port = try ServerProcess.current.port
        var random = SeededRandom(seed: 0x5EED_0002)
        for round in 0..<20 {
            let socket = try LoopbackSocket(tcp: true, port: port, timeoutMilliseconds: 2000)
            for i in 0..<50 {
                let base = QueryPacket.make(id: UInt16(i), name: names[(round + i) % names.count], type: 1, ednsSize: 4096)
                let packet = PacketMutator.mutate(base, using: &random)
                socket.sendFramed(packet)
                guard packet.count >= 12, packet[2] & 0x80 == 0 else { continue }
                let reply = try #require(socket.receiveFramed(), "no reply to \(packet)")
                #expect(ReplyCheck.problem(reply: reply, query: packet) == nil, "packet \(packet)")
            }
        }
        // A stream that lies about its length and then closes.
        let liar = try LoopbackSocket(tcp: true, port: port)
        liar.send([0xFF, 0xFF, 1, 2, 3])
        try expectServerStillAnswers(port)
    }

    func expectServerStillAnswers(_ port: UInt16) throws {
        for tcp in [false, true] {
            let reply = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: port, tcp: tcp)
            #expect(reply.normalized.answer == ["kubernetes.default.svc.cluster.local. 30 in a 10.0.0.1"])
        }
    }
}

/// Over the cap, a newcomer closes the connection idle or incomplete the
/// longest; a message must be whole 2 s after its first byte. Connections
/// that dribbled a byte every few seconds held their slots for as long as
/// they liked, and every legitimate TCP query failed meanwhile.
@Suite(.serialized, .kubeDNS(["--kube-objects", Fixtures.clusterPath, "--threads", "1", "--tcp-max-connections", "4"]))
struct ConnectionCapTests {
    static let query = QueryPacket.make(id: 1, name: "kubernetes.default.svc.cluster.local", type: 1)

    @Test func aNewcomerOverTheCapClosesTheConnectionIdleTheLongest() throws {
        let port = try ServerProcess.current.port
        let sockets = try (0..<4).map { _ in try LoopbackSocket(tcp: true, port: port) }
        for socket in sockets {
            socket.sendFramed(Self.query)
            #expect(socket.receiveFramed() != nil)
        }
        // The first is now the one idle the longest, unless it speaks again.
        sockets[0].sendFramed(Self.query)
        #expect(sockets[0].receiveFramed() != nil)
        let newcomer = try LoopbackSocket(tcp: true, port: port)
        newcomer.sendFramed(Self.query)
        #expect(newcomer.receiveFramed() != nil)
        #expect(sockets[1].peerClosed())
        sockets[0].sendFramed(Self.query)
        #expect(sockets[0].receiveFramed() != nil)
        // UDP is not affected.
        let reply = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: port)
        #expect(reply.rcode == "NOERROR")
    }

    @Test func aQueryIsAnsweredWhileDribblersHoldEverySlot() throws {
        let port = try ServerProcess.current.port
        var dribblers: [LoopbackSocket] = []
        for _ in 0..<8 {
            let socket = try LoopbackSocket(tcp: true, port: port)
            socket.send([0])
            dribblers.append(socket)
        }
        for _ in 0..<3 {
            let client = try LoopbackSocket(tcp: true, port: port, timeoutMilliseconds: 1000)
            client.sendFramed(Self.query)
            #expect(client.receiveFramed().map(ReplyCheck.rcode) == 0)
        }
    }

    @Test func aMessageNotWholeInTimeClosesItsConnection() throws {
        let port = try ServerProcess.current.port
        let socket = try LoopbackSocket(tcp: true, port: port, timeoutMilliseconds: 100)
        // A message of 40 bytes announced, then a byte every 300 ms, which
        // restarts the 10 s idle timer each time.
        socket.send([0, 40])
        let start = ContinuousClock.now
        var closedAfter: Duration?
        for _ in 0..<20 where closedAfter == nil {
            socket.send([0])
            var byte: UInt8 = 0
            let n = recv(socket.fd, &byte, 1, 0)
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { closedAfter = ContinuousClock.now - start }
            usleep(200_000)
        }
        let after = try #require(closedAfter, "still open after 6 s of dribbling")
        #expect(after >= .seconds(2) && after < .seconds(4), "closed after \(after)")
    }
}
