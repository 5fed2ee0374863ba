/// A DNS resource record type (RFC 1035 §3.2.2 and later RFCs).
public struct RecordType: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RecordType(rawValue: 1)
    public static let ns = RecordType(rawValue: 2)
    public static let cname = RecordType(rawValue: 5)
    public static let soa = RecordType(rawValue: 6)
    public static let ptr = RecordType(rawValue: 12)
    public static let mx = RecordType(rawValue: 15)
    public static let txt = RecordType(rawValue: 16)
    public static let aaaa = RecordType(rawValue: 28)
    public static let srv = RecordType(rawValue: 33)
    public static let any = RecordType(rawValue: 255)

    private static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 28: "AAAA",
        33: "SRV", 35: "NAPTR", 39: "DNAME", 43: "DS", 44: "SSHFP", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
        52: "TLSA", 64: "SVCB", 65: "HTTPS", 251: "IXFR", 252: "AXFR", 255: "ANY", 257: "CAA",
    ]

    /// Parses a mnemonic (`AAAA`) or the RFC 3597 form (`TYPE65`).
    public init?(_ text: String) {
        let upper = text.uppercased()
        if let known = Self.names.first(where: { $0.value == upper }) {
            self.init(rawValue: known.key)
        } else if upper.hasPrefix("TYPE"), let value = UInt16(upper.dropFirst(4)) {
            self.init(rawValue: value)
        } else {
            return nil
        }
    }

    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }

    public static func < (lhs: RecordType, rhs: RecordType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The SOA fields (RFC 1035 §3.3.13).
public struct SOAData: Hashable, Sendable {
    public var primary: DNSName
    public var mailbox: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    /// The TTL of negative answers (RFC 2308 §4).
    public var minimum: UInt32

    public init(
        primary: DNSName, mailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32
    ) {
        self.primary = primary
        self.mailbox = mailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// The data of the record types cluster DNS serves.
public enum RecordData: Hashable, Sendable {
    case address(IPAddress)
    case cname(DNSName)
    case ptr(DNSName)
    case ns(DNSName)
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    case txt([String])
    case soa(SOAData)

    public var type: RecordType {
        switch self {
        case .address(let ip): ip.isV4 ? .a : .aaaa
        case .cname: .cname
        case .ptr: .ptr
        case .ns: .ns
        case .srv: .srv
        case .txt: .txt
        case .soa: .soa
        }
    }

    /// The name this record points at, whose addresses may go into the
    /// additional section (RFC 1035 §3.3.11, RFC 2782).
    public var target: DNSName? {
        switch self {
        case .ns(let name), .srv(_, _, _, let name): name
        default: nil
        }
    }

    /// Presentation form of the data, as in a zone file.
    public var text: String {
        switch self {
        case .address(let ip): ip.description
        case .cname(let name), .ptr(let name), .ns(let name): name.description
        case let .srv(priority, weight, port, target): "\(priority) \(weight) \(port) \(target)"
        case .txt(let strings): strings.map { "\"\($0)\"" }.joined(separator: " ")
        case .soa(let soa):
            "\(soa.primary) \(soa.mailbox) \(soa.serial) \(soa.refresh) \(soa.retry) \(soa.expire) \(soa.minimum)"
        }
    }
}

/// One resource record of class IN.
public struct ResourceRecord: Hashable, Sendable, CustomStringConvertible {
    public var name: DNSName
    public var ttl: UInt32
    public var data: RecordData

    public init(_ name: DNSName, ttl: UInt32, _ data: RecordData) {
        self.name = name
        self.ttl = ttl
        self.data = data
    }

    public var type: RecordType { data.type }

    /// Zone-file form: `name ttl IN TYPE data`.
    public var description: String { "\(name) \(ttl) IN \(type) \(data.text)" }
}
