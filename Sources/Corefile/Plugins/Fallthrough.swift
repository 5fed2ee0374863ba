import DNSModel

/// A plugin's `fallthrough [ZONES...]`: the names it lacks that go on to
/// the next plugin rather than get NXDOMAIN.
enum Fallthrough {
    /// Whether `name` goes on, given the zones written (nil: no
    /// `fallthrough`; empty: every name).
    static func covers(_ zones: [DNSName]?, _ name: DNSName) -> Bool {
        guard let zones else { return false }
        return zones.isEmpty || zones.contains { name.isSubdomain(of: $0) }
    }
}
