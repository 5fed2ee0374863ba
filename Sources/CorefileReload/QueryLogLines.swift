import Corefile
import CorefilePlan
import DNSModel
import DataPlane

/// The query log's lines as CoreDNS's log plugin writes them: a query is
/// logged by the first rule of its server block (the block of the longest
/// zone it lies under) whose name it lies under, when its reply is of one
/// of the rule's classes, in the rule's format.
struct QueryLogLines {
    let blocks: [CorefilePlan.QueryLogBlock]
    /// Each block's zones, for the block of each entry.
    private let zones: [[DNSName]]

    init(blocks: [CorefilePlan.QueryLogBlock]) {
        self.blocks = blocks
        zones = blocks.map(\.zones)
    }

    /// The line of an entry, or nil when no rule logs it.
    func line(_ entry: QueryLogEntry) -> String? {
        guard let name = try? DNSName(entry.name), let block = Self.block(of: name, zones: zones),
            let rule = blocks[block].rules.first(where: { name.isSubdomain(of: $0.name) })
        else { return nil }
        guard rule.classes.contains(.all) || rule.classes.contains(where: { $0.rawValue == entry.replyClass }) else {
            return nil
        }
        return Self.format(rule.format, entry)
    }

    /// The index of the block a name goes to: of the longest zone it lies under.
    static func block(of name: DNSName, zones: [[DNSName]]) -> Int? {
        var best: (labels: Int, index: Int)?
        for (index, blockZones) in zones.enumerated() {
            for zone in blockZones where name.isSubdomain(of: zone) && zone.labelCount > (best?.labels ?? -1) {
                best = (zone.labelCount, index)
            }
        }
        return best?.index
    }

    /// The format with each placeholder replaced; an unknown one is left as written.
    static func format(_ format: String, _ entry: QueryLogEntry) -> String {
        var out = ""
        var rest = Substring(format)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let key = String(rest[rest.index(after: open)..<close])
            out += value(key, entry) ?? "{\(key)}"
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    private static func value(_ key: String, _ entry: QueryLogEntry) -> String? {
        switch key {
        case "type": entry.typeText
        case "name": entry.name
        case "class": entry.classText
        case "proto": entry.tcp ? "tcp" : "udp"
        case "remote": entry.remote
        case "local": "-"
        case "size": "\(entry.requestSize)"
        case "port": "\(entry.port)"
        case "duration": entry.seconds + "s"
        case "rcode": ResponseCode.mnemonic(entry.rcode)
        case "rsize": "\(entry.replySize)"
        case ">rflags": entry.flagText
        case ">bufsize": "\(entry.ednsSize ?? 512)"
        case ">do": "\(entry.dnssecOK)"
        case ">id": "\(entry.id)"
        case ">opcode": "QUERY"
        case "/log/type": entry.replyType
        case "/log/class": entry.replyClass
        case let label where label.hasPrefix("/"): "-"
        default: nil
        }
    }
}
