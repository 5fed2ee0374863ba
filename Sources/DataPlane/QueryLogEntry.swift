import CDataPlane
import DNSModel

/// One answered query of the query log, and its line in CoreDNS's log
/// plugin format (`{common}`):
/// `10.0.0.1:53124 - 4711 "A IN name. udp 41 false 512" NOERROR qr,aa,rd 68 0.000123s`.
public struct QueryLogEntry: Sendable {
    public var client: String
    public var port: UInt16
    public var id: UInt16
    public var type: UInt16
    public var qclass: UInt16
    public var name: String
    public var tcp: Bool
    public var requestSize: Int
    public var replySize: Int
    /// The client's EDNS buffer size; nil without EDNS.
    public var ednsSize: Int?
    public var dnssecOK: Bool
    public var rcode: UInt8
    public var flags: (UInt8, UInt8)
    public var answerCount: Int
    /// What made the reply.
    public var source: ReplySource
    public var duration: Duration

    init(_ e: dp_query_log_entry) {
        let bytes = withUnsafeBytes(of: e.address) { Array($0) }
        client = (e.family == 4 ? IPAddress.v4(bytes[0], bytes[1], bytes[2], bytes[3]) : IPAddress.v6(bytes)).description
        port = e.port
        id = e.id
        type = e.qtype
        qclass = e.qclass
        let wire = withUnsafeBytes(of: e.name) { Array($0.prefix(Int(e.name_len))) }
        name = DNSName(wire: wire.isEmpty ? [0] : wire).description
        tcp = e.transport == UInt8(DP_TCP)
        requestSize = Int(e.request_size)
        replySize = Int(e.reply_size)
        ednsSize = e.edns_size == 0 ? nil : Int(e.edns_size)
        dnssecOK = e.edns_do
        rcode = e.rcode
        flags = (e.reply_flags.0, e.reply_flags.1)
        answerCount = Int(e.answer_count)
        source = ReplySource(rawValue: Int(e.source)) ?? .none
        duration = .microseconds(Int64(e.duration_us))
    }

    /// The line in `{common}` format, as CoreDNS's log plugin writes it (without its `[INFO] ` prefix).
    public var line: String {
        let request = "\(tcp ? "tcp" : "udp") \(requestSize) \(dnssecOK) \(ednsSize ?? 512)"
        return "\(remote):\(port) - \(id) \"\(typeText) \(classText) \(name) \(request)\" \(ResponseCode.mnemonic(rcode)) "
            + "\(flagText) \(replySize) \(seconds)s"
    }

    /// The client's address, an IPv6 one in brackets.
    public var remote: String { client.contains(":") ? "[\(client)]" : client }
    public var typeText: String { RecordType(rawValue: type).description }
    public var classText: String { RecordClass.mnemonic(qclass) }

    /// What the reply says, as CoreDNS's response.Typify names it: NOERROR
    /// with answers, NODATA without, NXDOMAIN, else OTHERERROR.
    public var replyType: String {
        switch rcode {
        case 0: answerCount > 0 ? "NOERROR" : "NODATA"
        case 3: "NXDOMAIN"
        default: "OTHERERROR"
        }
    }

    /// The reply's class, as the log plugin's `class` option reads it.
    public var replyClass: String {
        switch replyType {
        case "NOERROR": "success"
        case "NODATA", "NXDOMAIN": "denial"
        default: "error"
        }
    }

    /// The reply's header flags, in the order CoreDNS writes them.
    public var flagText: String {
        let (high, low) = flags
        let names: [(Bool, String)] = [
            (high & 0x80 != 0, "qr"), (high & 0x04 != 0, "aa"), (high & 0x02 != 0, "tc"), (high & 0x01 != 0, "rd"),
            (low & 0x80 != 0, "ra"), (low & 0x40 != 0, "z"), (low & 0x20 != 0, "ad"), (low & 0x10 != 0, "cd"),
        ]
        return names.filter(\.0).map(\.1).joined(separator: ",")
    }

    /// Seconds in Go's shortest fixed notation (0.000123), as CoreDNS prints a duration's seconds.
    public var seconds: String {
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        let fraction = String(micros % 1_000_000)
        var text = "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
