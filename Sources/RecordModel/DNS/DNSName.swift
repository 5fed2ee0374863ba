/// An absolute domain name, kept in lower case: names compare
/// case-insensitively (RFC 4343), and the data plane echoes the client's
/// case in the question.
public struct DNSName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The labels, lower-cased, leftmost first, without the root label.
    public let labels: [String]

    public static let root = DNSName(validated: [])

    /// Parses presentation form (`kube-dns.kube-system.svc.cluster.local`,
    /// with or without the trailing dot). Escapes are not supported.
    public init(_ text: String) throws(DNSNameError) {
        if text == "." {
            self = .root
            return
        }
        let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard !trimmed.isEmpty else { throw .empty }
        let labels = trimmed.split(separator: ".", omittingEmptySubsequences: false).map {
            String($0).lowercased()
        }
        try self.init(labels: labels)
    }

    /// Builds a name from labels, checking RFC 1035 §2.3.4 limits.
    public init(labels: [String]) throws(DNSNameError) {
        var length = 1
        for label in labels {
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.utf8.count <= 63 else { throw .labelTooLong(label) }
            guard !label.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 <= 0x20 || $0 >= 0x7F })
            else { throw .unsupportedCharacter(label) }
            length += 1 + label.utf8.count
        }
        guard length <= 255 else { throw .nameTooLong }
        self.labels = labels.map { $0.lowercased() }
    }

    /// For labels known to be valid and lower-case (built from other names
    /// or from digits).
    init(validated labels: [String]) { self.labels = labels }

    /// `label.self`; throws when the result would break the limits.
    public func prepending(_ label: String) throws(DNSNameError) -> DNSName {
        try DNSName(labels: [label] + labels)
    }

    /// The name with its leftmost label removed; nil for the root.
    public var parent: DNSName? {
        labels.isEmpty ? nil : DNSName(validated: Array(labels.dropFirst()))
    }

    public func isSubdomain(of other: DNSName) -> Bool {
        labels.count >= other.labels.count && labels.suffix(other.labels.count).elementsEqual(other.labels)
    }

    public var description: String { labels.isEmpty ? "." : labels.joined(separator: ".") + "." }

    /// Wire form (RFC 1035 §3.1): length-prefixed labels, then the root.
    public var wire: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(labels.reduce(1) { $0 + 1 + $1.utf8.count })
        for label in labels {
            bytes.append(UInt8(label.utf8.count))
            bytes.append(contentsOf: label.utf8)
        }
        bytes.append(0)
        return bytes
    }

    /// Canonical order (RFC 4034 §6.1): by labels from the root down.
    public static func < (lhs: DNSName, rhs: DNSName) -> Bool {
        lhs.labels.reversed().lexicographicallyPrecedes(rhs.labels.reversed())
    }
}

public enum DNSNameError: Error, Equatable, CustomStringConvertible {
    case empty
    case emptyLabel
    case labelTooLong(String)
    case unsupportedCharacter(String)
    case nameTooLong

    public var description: String {
        switch self {
        case .empty: "empty name"
        case .emptyLabel: "empty label"
        case .labelTooLong(let label): "label \(label) is longer than 63 bytes"
        case .unsupportedCharacter(let label): "label \(label) has a space, a backslash or a non-ASCII byte"
        case .nameTooLong: "name is longer than 255 bytes"
        }
    }
}
