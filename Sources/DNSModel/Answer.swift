/// The RCODEs the server answers with (RFC 1035 §4.1.1).
public enum ResponseCode: UInt8, Sendable, CustomStringConvertible {
    case noError = 0, formErr = 1, servFail = 2, nxDomain = 3, notImp = 4, refused = 5

    public var description: String {
        switch self {
        case .noError: "NOERROR"
        case .formErr: "FORMERR"
        case .servFail: "SERVFAIL"
        case .nxDomain: "NXDOMAIN"
        case .notImp: "NOTIMP"
        case .refused: "REFUSED"
        }
    }

    /// Any 4-bit RCODE's name as logs and metric labels write it: the
    /// mnemonic of the ones above, `RCODE<n>` for the others.
    public static func mnemonic(_ value: UInt8) -> String {
        ResponseCode(rawValue: value)?.description ?? "RCODE\(value)"
    }
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
