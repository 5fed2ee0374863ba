import ArgumentParser
import ObjectSources
import RecordModel

/// `kube-dns records`: prints the records a cluster makes, in zone-file
/// form, to see what the server will answer without starting it.
struct RecordsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Print the records of a static cluster as zone-file text.")

    @OptionGroup var records: RecordFlags

    @Flag(help: "Only the cluster zone (no reverse zones), as a zone file for another server.")
    var clusterZoneOnly = false

    func run() throws {
        guard let path = records.kubeObjects else { throw ValidationError("--kube-objects FILE is required") }
        let objects = try ObjectsFile.load(path)
        let zones = ClusterRecords.zones(for: objects, options: try records.options(serial: 1))
        for problem in zones.problems { print("; skipped: \(problem)") }
        for zone in clusterZoneOnly ? [zones.zones[0]] : zones.zones {
            for record in zone.records { print(record) }
        }
    }
}
