import Corefile
import CorefilePlan
import DNSModel
import DataPlane
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// CoreDNS's errors plugin for the queries answered SERVFAIL: a line
/// each (`[ERROR] plugin/errors: 2 NAME. TYPE: REASON`) from the block
/// the query went to, when that block has the plugin; one matching a
/// `consolidate` pattern is counted instead, and the count logged once
/// its window, opened by the first, ends. Holds the windows open: one
/// per query log writer.
final class ErrorLogLines {
    private struct Window {
        let consolidation: ErrorsPlugin.Consolidation
        let pattern: CompiledPattern
        var openedAt: ContinuousClock.Instant?
        var count = 0
    }

    private let blocks: [CorefilePlan.ErrorLogBlock]
    /// Each block's zones, for the block of each entry.
    private let zones: [[DNSName]]
    /// Each block's windows, in its `consolidate` order.
    private var windows: [[Window]]

    init(blocks: [CorefilePlan.ErrorLogBlock]) {
        self.blocks = blocks
        zones = blocks.map(\.zones)
        windows = blocks.map { block in
            (block.errors?.consolidations ?? []).compactMap { consolidation in
                CompiledPattern(consolidation.posix).map { Window(consolidation: consolidation, pattern: $0) }
            }
        }
    }

    /// The lines of an entry, at `now`.
    func lines(_ entry: QueryLogEntry, now: ContinuousClock.Instant) -> [String] {
        guard entry.rcode == 2, let name = try? DNSName(entry.name),
            let index = QueryLogLines.block(of: name, zones: zones), blocks[index].errors != nil
        else { return [] }
        let message = "\(entry.rcode) \(entry.name) \(entry.typeText): \(Self.reason(entry.source))"
        guard let window = windows[index].firstIndex(where: { $0.pattern.matches(message) }) else {
            return ["[ERROR] plugin/errors: \(message)"]
        }
        if windows[index][window].openedAt == nil { windows[index][window].openedAt = now }
        windows[index][window].count += 1
        let consolidation = windows[index][window].consolidation
        guard consolidation.showFirst, windows[index][window].count == 1 else { return [] }
        return ["\(Self.prefix(consolidation.level)) plugin/errors: \(message)"]
    }

    /// The summaries of the windows that have ended by `now`.
    func summaries(now: ContinuousClock.Instant) -> [String] {
        var lines: [String] = []
        for block in windows.indices {
            for index in windows[block].indices {
                let window = windows[block][index]
                guard let openedAt = window.openedAt, now - openedAt >= window.consolidation.window else { continue }
                let consolidation = window.consolidation
                // With show_first, a window of one error has said it all.
                if window.count > (consolidation.showFirst ? 1 : 0) {
                    lines.append(
                        "\(Self.prefix(consolidation.level)) \(window.count) errors like '\(consolidation.pattern)' occurred in last "
                            + GoDurationText.format(consolidation.window))
                }
                windows[block][index].openedAt = nil
                windows[block][index].count = 0
            }
        }
        return lines
    }

    /// Why a query was answered SERVFAIL, by what answered it.
    static func reason(_ source: ReplySource) -> String {
        switch source {
        case .forward: "forward: no upstream answered (each failed or timed out)"
        case .template: "template: a record is no valid record once filled in"
        case .table: "kubernetes: the cluster's records are not loaded yet"
        case .cache, .hosts, .none: "no plugin answers the name"
        }
    }

    static func prefix(_ level: String) -> String { "[\(level.uppercased())]" }
}

/// A POSIX extended regular expression, compiled once.
final class CompiledPattern {
    private var regex = regex_t()

    init?(_ posix: String) {
        guard regcomp(&regex, posix, REG_EXTENDED | REG_NOSUB) == 0 else { return nil }
    }

    deinit { regfree(&regex) }

    func matches(_ text: String) -> Bool { regexec(&regex, text, 0, nil, 0) == 0 }
}
