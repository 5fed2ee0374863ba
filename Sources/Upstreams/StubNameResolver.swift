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
/// (A and AAAA) and asked again once their TTL has run out. A
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
            // ldns's resolver blocks: off the cooperative threads.
            DispatchQueue.global().async {
                continuation.resume(returning: servers.lazy.compactMap { lookUp(name, at: $0) }.first)
            }
        }
    }

    /// A and AAAA of `name` from one server, by ldns's resolver (its ID
    /// and question checks, and TCP when a reply is truncated); nil when it
    /// does not answer.
    private static func lookUp(_ name: DNSName, at server: Forwarding.Upstream) -> (addresses: [String], ttl: Int)? {
        guard let resolver = ldns_resolver_new() else { return nil }
        defer { ldns_resolver_deep_free(resolver) }
        let family = server.host.contains(":") ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A
        guard let address = ldns_rdf_new_frm_str(family, server.host) else { return nil }
        defer { ldns_rdf_deep_free(address) }
        guard ldns_resolver_push_nameserver(resolver, address) == LDNS_STATUS_OK,
            let owner = ldns_dname_new_frm_str(name.description)
        else { return nil }
        defer { ldns_rdf_deep_free(owner) }
        ldns_resolver_set_port(resolver, server.port)
        ldns_resolver_set_timeout(resolver, timeval(tv_sec: 2, tv_usec: 0))
        ldns_resolver_set_retry(resolver, 1)
        ldns_resolver_set_recursive(resolver, 1)
        var addresses: [String] = []
        var ttl = Int.max
        var answered = false
        for type in [LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA] {
            guard let packet = ldns_resolver_query(resolver, owner, type, LDNS_RR_CLASS_IN, UInt16(LDNS_RD)) else { continue }
            defer { ldns_pkt_free(packet) }
            answered = true
            let (found, least) = readAddresses(packet)
            addresses += found
            if !found.isEmpty { ttl = min(ttl, least) }
        }
        return answered ? (addresses, ttl == Int.max ? 0 : ttl) : nil
    }

    /// The A and AAAA records of the answer section, as text, and their least TTL.
    private static func readAddresses(_ packet: UnsafeMutablePointer<ldns_pkt>) -> ([String], Int) {
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
