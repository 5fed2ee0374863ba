import DNSModel

/// The lines of a hosts file (hosts(5)): an address, then its names;
/// `#` starts a comment. Lines that are not that are skipped, as CoreDNS's
/// hosts plugin skips them; an IPv6 zone index (`fe80::1%eth0`) is not an
/// address here.
public enum HostsFile {
    public struct Entry: Sendable, Equatable {
        public var address: IPAddress
        public var names: [DNSName]

        public init(address: IPAddress, names: [DNSName]) {
            (self.address, self.names) = (address, names)
        }
    }

    public static func entries(in text: String) -> [Entry] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let data = line.prefix { $0 != "#" }
            let words = data.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, let address = IPAddress(String(words[0])) else { return nil }
            let names = words.dropFirst().compactMap { try? DNSName(String($0)) }
            return names.isEmpty ? nil : Entry(address: address, names: names)
        }
    }
}
