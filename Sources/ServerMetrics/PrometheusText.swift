import DataPlane
import Foundation

/// Metrics in the Prometheus text format (version 0.0.4), for values that
/// are already totals when read: the data plane's counters, summed over
/// its workers at scrape time, and its bucketed histograms.
struct PrometheusText {
    private(set) var text = ""

    typealias Labels = [(String, String)]

    mutating func counter(_ name: String, _ help: String, _ samples: [(Labels, UInt64)]) {
        family(name, help, "counter")
        for (labels, value) in samples { sample(name, labels, "\(value)") }
    }

    mutating func gauge(_ name: String, _ help: String, _ samples: [(Labels, Double)]) {
        family(name, help, "gauge")
        for (labels, value) in samples { sample(name, labels, format(value)) }
    }

    /// One series per label set; each histogram's counts are per bucket
    /// (not cumulative), one more than `bounds` (the last: above every bound).
    mutating func histogram(_ name: String, _ help: String, bounds: [Double], _ series: [(Labels, Histogram)]) {
        family(name, help, "histogram")
        for (labels, histogram) in series {
            var cumulative: UInt64 = 0
            for (bound, count) in zip(bounds, histogram.counts) {
                cumulative += count
                sample(name + "_bucket", labels + [("le", format(bound))], "\(cumulative)")
            }
            let total = histogram.count
            sample(name + "_bucket", labels + [("le", "+Inf")], "\(total)")
            sample(name + "_sum", labels, format(histogram.sum))
            sample(name + "_count", labels, "\(total)")
        }
    }

    private mutating func family(_ name: String, _ help: String, _ type: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private mutating func sample(_ name: String, _ labels: Labels, _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " \(value)\n"
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    private func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
