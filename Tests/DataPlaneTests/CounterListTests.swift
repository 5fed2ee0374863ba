import DataPlane
import Foundation
import RecordModel
import ServerMetrics
import Testing

/// The data plane's counters are listed once (dataplane.h, DP_COUNTERS):
/// each one with a metric reaches /metrics and is documented, with no
/// other list to keep in step.
@Suite struct CounterListTests {
    @Test func everyCounterOfTheListIsExportedAndDocumented() throws {
        let zones = ClusterRecords.unsyncedZones(options: RecordOptions(domain: try DNSName("cluster.local")))
        let server = try DNSServer(.init(address: "127.0.0.1", port: 0, threads: 1), initial: try AnswerTable(zones))
        defer { server.stop() }
        let exposition = MetricsRegistry(version: "test").exposition(server)
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md"),
            encoding: .utf8)
        let counters = DataPlaneCounter.all
        #expect(Set(counters.map(\.field)).count == counters.count)
        #expect(Set(server.stats().counters.keys) == Set(counters.map(\.field)))
        for counter in counters {
            guard let metric = counter.metric else { continue }
            #expect(exposition.contains("# TYPE \(metric) counter"), "\(metric) is exported")
            #expect(readme.contains("`\(metric)`"), "README's metrics table names \(metric)")
        }
    }
}
