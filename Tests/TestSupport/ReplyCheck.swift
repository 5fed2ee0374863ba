import CLdns

/// What a reply must be, whatever the query was: a DNS message ldns can
/// parse, with the query's ID and QR set.
public enum ReplyCheck {
    /// nil when the reply is well formed, else why not.
    public static func problem(reply: [UInt8], query: [UInt8]) -> String? {
        guard reply.count >= 12 else { return "reply of \(reply.count) bytes" }
        guard reply[2] & 0x80 != 0 else { return "QR not set" }
        if query.count >= 2, reply[0] != query[0] || reply[1] != query[1] { return "ID not echoed" }
        var packet: UnsafeMutablePointer<ldns_pkt>?
        let status = reply.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        defer { if packet != nil { ldns_pkt_free(packet) } }
        guard status == LDNS_STATUS_OK else {
            return "ldns cannot parse the reply: \(String(cString: ldns_get_errorstr_by_id(status)))"
        }
        return nil
    }

    public static func rcode(_ reply: [UInt8]) -> UInt8 { reply[3] & 0x0F }
    public static func count(_ reply: [UInt8], section: Int) -> Int { Int(reply[4 + 2 * section]) << 8 | Int(reply[5 + 2 * section]) }
}
