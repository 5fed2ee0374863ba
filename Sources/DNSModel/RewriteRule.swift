/// A rewrite rule (CoreDNS's rewrite plugin, coredns.io/plugins/rewrite):
/// what it matches in a query, and what it changes in the query or its
/// reply. Read from a Corefile; run by the data plane.
public struct RewriteRule: Sendable, Equatable {
    public enum Match: String, Sendable, CaseIterable { case exact, prefix, suffix, substring, regex }

    public struct AnswerName: Sendable, Equatable {
        public var pattern: String
        public var replacement: String

        public init(pattern: String, replacement: String) {
            self.pattern = pattern
            self.replacement = replacement
        }
    }

    public enum Action: Sendable, Equatable {
        /// The question's name: `from` and `to` as CoreDNS normalises
        /// them (lower case, with the final dot; a pattern as written,
        /// in POSIX extended syntax).
        case name(Match, from: String, to: String, answerAuto: Bool, answerNames: [AnswerName])
        case type(from: RecordType, to: RecordType)
        case `class`(from: UInt16, to: UInt16)
        /// The reply's TTLs, raised to `min` and lowered to `max`, for names that match.
        case ttl(Match, name: String, min: UInt32, max: UInt32)
    }

    /// Whether the rules after this one are skipped when it matches (`stop`, the default).
    public var stop: Bool
    public var action: Action

    public init(stop: Bool, action: Action) {
        self.stop = stop
        self.action = action
    }
}
