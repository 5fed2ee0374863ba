import CLdns
import Foundation

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

    /// The reply's rcode, flags and records, each section sorted: what a
    /// client sees, whatever the order of records or their compression.
    public static func normalized(_ reply: [UInt8]) -> String {
        var packet: UnsafeMutablePointer<ldns_pkt>?
        let status = reply.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else { return "unparsable" }
        defer { ldns_pkt_free(packet) }
        var lines = ["rcode \(ldns_pkt_get_rcode(packet).rawValue) aa \(ldns_pkt_aa(packet)) tc \(ldns_pkt_tc(packet))"]
        let sections = [ldns_pkt_answer(packet), ldns_pkt_authority(packet), ldns_pkt_additional(packet)]
        for (index, list) in sections.enumerated() {
            var records: [String] = []
            for i in 0..<ldns_rr_list_rr_count(list) {
                guard let text = ldns_rr2str(ldns_rr_list_rr(list, i)) else { continue }
                records.append(String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines))
                free(text)
            }
            lines.append("section \(index): " + records.sorted().joined(separator: " | "))
        }
        return lines.joined(separator: "\n")
    }
}
