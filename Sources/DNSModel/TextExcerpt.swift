extension StringProtocol {
    /// The text as an error message may quote it: whole when short, else
    /// its start and how long it was, so a 10 MB input is not a 10 MB log line.
    public func excerpt(_ limit: Int = 80) -> String {
        guard count > limit else { return String(self) }
        return "\(prefix(limit))... (\(utf8.count) bytes)"
    }
}
