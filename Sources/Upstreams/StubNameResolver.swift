import CLdns
import DNSModel
import DataPlane
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The addresses of stub-domain servers given by name (`dns.corp.example`,
/// which kube-dns accepted and resolved), asked of the default upstreams
/// (A and AAAA, over UDP) and asked again once their TTL has run out. A
/// name that does not resolve keeps its last addresses and is asked again
/// after `retry`.
public final class StubNameResolver: Sendable {
    public typealias Lookup = @Sendable (_ name: DNSName, _ servers: [Forwarding.Upstream]) async -> (addresses: [String], ttl: Int)?

    private struct Entry {
        var addresses: [String]
        var due: ContinuousClock.Instant
    }

    private let entries = Mutex<[DNSName: Entry]>([:])
    private let lookup: Lookup
    private let retry: Duration
    private let shortestTTL: Int

    /// `shortestTTL`: seconds an answer is kept at least; `retry`: the wait after a failure.
    public init(lookup: @escaping Lookup = StubNameResolver.ask, shortestTTL: Int = 5, retry: Duration = .seconds(5)) {
        self.lookup = lookup
        self.shortestTTL = shortestTTL
        self.retry = retry
    }

    /// The addresses of each name, asked again where due; a name never
    /// resolved is absent.
    public func resolve(_ names: Set<DNSName>, through servers: [Forwarding.Upstream]) async -> [DNSName: [String]] {
        let now = ContinuousClock.now
        let due = entries.withLock { entries in
            entries = entries.filter { names.contains($0.key) }
            return names.filter { entries[$0].map { $0.due <= now } ?? true }
        }
        for name in due {
            let answer = await lookup(name, servers)
            entries.withLock { entries in
                if let answer, !answer.addresses.isEmpty {
                    let ttl = max(shortestTTL, answer.ttl)
                    entries[name] = Entry(addresses: answer.addresses.sorted(), due: .now + .seconds(ttl))
                } else {
                    let kept = entries[name]?.addresses ?? []
                    entries[name] = Entry(addresses: kept, due: .now + retry)
                }
            }
        }
        return entries.withLock { entries in entries.compactMapValues { $0.addresses.isEmpty ? nil : $0.addresses } }
    }

    /// Whether a name's answer has run out (or was never had).
    public func isDue(_ names: Set<DNSName>) -> Bool {
        let now = ContinuousClock.now
        return entries.withLock { entries in names.contains { entries[$0].map { $0.due <= now } ?? true } }
    }

    /// A and AAAA of `name`, from the first of `servers` that answers.
    @Sendable public static func ask(_ name: DNSName, _ servers: [Forwarding.Upstream]) async -> (addresses: [String], ttl: Int)? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                for server in servers {
                    var addresses: [String] = []
                    var ttl = Int.max
                    var answered = false
                    for type in [UInt16(1), 28] {
                        guard let reply = exchange(query(name, type), with: server) else { continue }
                        answered = true
                        let (found, least) = readAddresses(reply)
                        addresses += found
                        if !found.isEmpty { ttl = min(ttl, least) }
                    }
                    if answered {
                        continuation.resume(returning: (addresses, ttl == Int.max ? 0 : ttl))
                        return
                    }
                }
                continuation.resume(returning: nil)
            }
        }
    }

    private static func query(_ name: DNSName, _ type: UInt16) -> [UInt8] {
        let id = UInt16.random(in: 0...UInt16.max)
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        bytes += name.wire
        bytes += [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        return bytes
    }

    /// One query over UDP, its reply (same ID) within 2 s, or nil.
    private static func exchange(_ query: [UInt8], with server: Forwarding.Upstream) -> [UInt8]? {
        var storage = sockaddr_storage()
        var length: socklen_t = 0
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET, server.host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = server.port.bigEndian
            withUnsafeBytes(of: v4) { bytes in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, server.host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = server.port.bigEndian
            withUnsafeBytes(of: v6) { bytes in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            return nil
        }
        let fd = socket(Int32(storage.ss_family), Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard connected == 0, query.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == query.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<4 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n >= 12 else { return nil }
            if buffer[0] == query[0], buffer[1] == query[1], buffer[2] & 0x80 != 0 { return Array(buffer[..<n]) }
        }
        return nil
    }

    /// The A and AAAA records of the answer section, as text, and their least TTL.
    private static func readAddresses(_ reply: [UInt8]) -> ([String], Int) {
        var packet: UnsafeMutablePointer<ldns_pkt>?
        let status = reply.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else { return ([], 0) }
        defer { ldns_pkt_free(packet) }
        var addresses: [String] = []
        var ttl = Int.max
        let answer = ldns_pkt_answer(packet)
        for i in 0..<ldns_rr_list_rr_count(answer) {
            guard let rr = ldns_rr_list_rr(answer, i) else { continue }
            let type = ldns_rr_get_type(rr)
            guard type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA, let rdf = ldns_rr_rdf(rr, 0),
                let text = ldns_rdf2str(rdf)
            else { continue }
            addresses.append(String(cString: text))
            free(text)
            ttl = min(ttl, Int(ldns_rr_ttl(rr)))
        }
        return (addresses, ttl)
    }
}
