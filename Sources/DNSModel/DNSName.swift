#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An absolute domain name, kept in lower case: names compare
/// case-insensitively (RFC 4343), and the data plane echoes the client's
/// case in the question.
///
/// Stored in wire form (RFC 1035 §3.1: length-prefixed labels, then the
/// root), which is what the data plane takes, and what hashes fastest:
/// a large cluster has hundreds of thousands of names.
public struct DNSName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Wire form, lower-case.
    public let wire: [UInt8]

    public static let root = DNSName(wire: [0])

    /// For wire bytes known to be a valid lower-case name.
    public init(wire: [UInt8]) { self.wire = wire }

    /// Parses presentation form (`kube-dns.kube-system.svc.cluster.local`,
    /// with or without the trailing dot). Escapes are not supported.
    public init(_ text: String) throws(DNSNameError) {
        if text == "." {
            self = .root
            return
        }
        let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard !trimmed.isEmpty else { throw .empty }
        try self.init(labels: trimmed.split(separator: ".", omittingEmptySubsequences: false).map(String.init))
    }

    /// `labels` (leftmost first) followed by the labels of `parent`,
    /// checking RFC 1035 §2.3.4 limits.
    public init(labels: [String], under parent: DNSName = .root) throws(DNSNameError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(parent.wire.count + labels.reduce(0) { $0 + 1 + $1.utf8.count })
        for label in labels {
            let count = label.utf8.count
            guard count > 0 else { throw .emptyLabel }
            guard count <= 63 else { throw .labelTooLong(label) }
            bytes.append(UInt8(count))
            for byte in label.utf8 {
                guard Self.isLabelByte(byte) else { throw .unsupportedCharacter(label) }
                bytes.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
            }
        }
        bytes += parent.wire
        guard bytes.count <= 255 else { throw .nameTooLong }
        wire = bytes
    }

    /// Whether `text` is one label `init(labels:under:)` takes: 1 to 63
    /// bytes, none of them a space, a backslash or non-ASCII.
    public static func isLabel(_ text: String) -> Bool {
        let utf8 = text.utf8
        return (1...63).contains(utf8.count) && utf8.allSatisfy(isLabelByte)
    }

    /// Printable ASCII but a space or a backslash (escapes are not supported).
    private static func isLabelByte(_ byte: UInt8) -> Bool { byte != UInt8(ascii: "\\") && byte > 0x20 && byte < 0x7F }

    /// For labels known to be valid (fixed words, digits, lower-case
    /// labels of other names) under a name that leaves room for them.
    public init(validated labels: [String], under parent: DNSName = .root) {
        var bytes: [UInt8] = []
        for label in labels {
            bytes.append(UInt8(label.utf8.count))
            bytes += label.utf8
        }
        wire = bytes + parent.wire
    }

    /// The labels, leftmost first, without the root.
    public var labels: [String] {
        var result: [String] = []
        var pos = 0
        while wire[pos] != 0 {
            let length = Int(wire[pos])
            result.append(String(decoding: wire[(pos + 1)...(pos + length)], as: UTF8.self))
            pos += 1 + length
        }
        return result
    }

    /// How many labels the name has, the root not counted.
    public var labelCount: Int {
        var count = 0
        var pos = 0
        while wire[pos] != 0 {
            pos += 1 + Int(wire[pos])
            count += 1
        }
        return count
    }

    /// The label `index` labels from the left (0: the leftmost).
    public func label(_ index: Int) -> String {
        let pos = labelOffset(index)
        return String(decoding: wire[(pos + 1)..<(pos + 1 + Int(wire[pos]))], as: UTF8.self)
    }

    /// Whether the label `index` labels from the left is `text` (lower case).
    public func label(_ index: Int, is text: StaticString) -> Bool {
        let pos = labelOffset(index)
        guard Int(wire[pos]) == text.utf8CodeUnitCount else { return false }
        return text.withUTF8Buffer { wire[(pos + 1)..<(pos + 1 + $0.count)].elementsEqual($0) }
    }

    private func labelOffset(_ index: Int) -> Int {
        var pos = 0
        for _ in 0..<index { pos += 1 + Int(wire[pos]) }
        return pos
    }

    /// The ancestor with the rightmost `count` labels of this name.
    public func suffix(labels count: Int) -> DNSName {
        var pos = 0
        for _ in 0..<max(0, labelCount - count) { pos += 1 + Int(wire[pos]) }
        return DNSName(wire: Array(wire[pos...]))
    }

    /// The name with its leftmost label removed; nil for the root.
    public var parent: DNSName? {
        wire[0] == 0 ? nil : DNSName(wire: Array(wire[(Int(wire[0]) + 1)...]))
    }

    public func isSubdomain(of other: DNSName) -> Bool {
        guard other.wire.count <= wire.count else { return false }
        let offset = wire.count - other.wire.count
        var pos = 0
        while pos < offset { pos += 1 + Int(wire[pos]) }
        return pos == offset && Self.bytesEqual(wire, from: offset, other.wire)
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        lhs.wire.count == rhs.wire.count && bytesEqual(lhs.wire, from: 0, rhs.wire)
    }

    /// Whether `bytes` from `offset` on are `other`: one memcmp, where a
    /// comparison of elements goes byte by byte (names are compared
    /// millions of times when a large cluster is loaded).
    private static func bytesEqual(_ bytes: [UInt8], from offset: Int, _ other: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { whole in
            other.withUnsafeBufferPointer { memcmp(whole.baseAddress! + offset, $0.baseAddress!, $0.count) == 0 }
        }
    }

    public var description: String {
        let labels = labels
        return labels.isEmpty ? "." : labels.joined(separator: ".") + "."
    }

    public func hash(into hasher: inout Hasher) {
        wire.withUnsafeBytes { hasher.combine(bytes: $0) }
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
        case .labelTooLong(let label): "label \(label.excerpt()) is longer than 63 bytes"
        case .unsupportedCharacter(let label): "label \(label.excerpt()) has a space, a backslash or a non-ASCII byte"
        case .nameTooLong: "name is longer than 255 bytes"
        }
    }
}
