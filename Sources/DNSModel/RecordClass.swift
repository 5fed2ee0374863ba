/// DNS classes by their mnemonics (RFC 1035 §3.2.4; NONE, RFC 2136
/// §2.4; ANY, a query's class), as Go's dns package, and so CoreDNS,
/// writes them.
public enum RecordClass {
    public static let codes: [String: UInt16] = ["IN": 1, "CH": 3, "HS": 4, "NONE": 254, "ANY": 255]

    /// A class's mnemonic; `CLASS<n>` for the others (RFC 3597 §5).
    public static func mnemonic(_ code: UInt16) -> String { codes.first { $0.value == code }?.key ?? "CLASS\(code)" }
}
