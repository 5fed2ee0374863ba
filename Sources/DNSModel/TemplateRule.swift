/// A template (CoreDNS's template plugin, coredns.io/plugins/template):
/// the queries it answers and the reply it makes of them. Read from a
/// Corefile; run by the data plane.
public struct TemplateRule: Sendable, Equatable {
    /// The class and type it answers (255: any).
    public var qclass: UInt16
    public var qtype: RecordType
    public var zones: [DNSName]
    /// `match`: the first that matches the name (text form, lower case,
    /// with the final dot) answers it; none given: every name.
    public var patterns: [Pattern]
    /// The records of each section, one template each (see Text).
    public var answer: [Text] = []
    public var additional: [Text] = []
    public var authority: [Text] = []
    public var rcode: UInt8 = 0
    /// Names of its zones that no pattern matches go on to the next
    /// template or plugin when under these (empty: all); nil: SERVFAIL.
    public var fallthroughZones: [DNSName]?

    public struct Pattern: Sendable, Equatable {
        /// POSIX extended syntax.
        public var posix: String
        /// For each of the template's group names (Text.groupNames), its group number here, or -1.
        public var namedGroups: [Int]

        public init(posix: String, namedGroups: [Int]) {
            self.posix = posix
            self.namedGroups = namedGroups
        }
    }

    /// A record template in zone-file form, its fields as markers: U+0001
    /// then `N` (the name), `T` (type), `C` (class), `Z` (zone), `R` (the
    /// client's address), a digit-like byte `0`+N (the Nth group), or `g`
    /// then `0`+N (the template's Nth group name).
    public struct Text: Sendable, Equatable {
        public var marked: String

        public init(marked: String) { self.marked = marked }

        public static let marker: Character = "\u{01}"
    }

    public init(qclass: UInt16, qtype: RecordType, zones: [DNSName], patterns: [Pattern]) {
        self.qclass = qclass
        self.qtype = qtype
        self.zones = zones
        self.patterns = patterns
    }
}
