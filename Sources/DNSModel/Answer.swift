/// The RCODEs the server answers with (RFC 1035 §4.1.1).
public enum ResponseCode: UInt8, Sendable, CustomStringConvertible {
    case noError = 0, formErr = 1, servFail = 2, nxDomain = 3, notImp = 4, refused = 5

    public var description: String { Self.mnemonic(rawValue) }

    /// The RCODEs' mnemonics up to NOTZONE (RFC 1035 §4.1.1, RFC 2136
    /// §2.2), as Go's dns package, and so CoreDNS, writes them.
    public static let mnemonics: [UInt8: String] = [
        0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET",
        8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE",
    ]

    /// Any 4-bit RCODE's name as logs and metric labels write it: its
    /// mnemonic, `RCODE<n>` for the others.
    public static func mnemonic(_ value: UInt8) -> String { mnemonics[value] ?? "RCODE\(value)" }

    /// The RCODE a mnemonic names (`NXDOMAIN`), or nil.
    public static func code(_ mnemonic: String) -> UInt8? { mnemonics.first { $0.value == mnemonic }?.key }
}

/// The sections of an authoritative reply to one question.
public struct Answer: Hashable, Sendable {
    public var rcode: ResponseCode
    public var answer: [ResourceRecord]
    public var authority: [ResourceRecord]
    public var additional: [ResourceRecord]

    public init(
        _ rcode: ResponseCode, answer: [ResourceRecord] = [], authority: [ResourceRecord] = [],
        additional: [ResourceRecord] = []
    ) {
        self.rcode = rcode
        self.answer = answer
        self.authority = authority
        self.additional = additional
    }
}
