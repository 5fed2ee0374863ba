import ArgumentParser
import RecordModel

/// The flags that shape records, shared by the commands that make them.
struct RecordFlags: ParsableArguments {
    @Option(name: .customLong("domain"), help: "The cluster domain.")
    var domain = "cluster.local."

    @Option(name: .customLong("ttl"), help: "TTL of records and of negative answers, in seconds.")
    var ttl: UInt32 = 30

    @Option(
        name: .customLong("pods"),
        help: "Pod names a-b-c-d.<ns>.pod.<domain>: insecure (any address), verified (existing pods) or disabled.")
    var pods: RecordOptions.PodMode = .insecure

    @Option(
        name: [.customLong("kube-objects"), .customLong("kube_objects")],
        help:
            "A YAML or JSON file of Services, Endpoints, EndpointSlices, Pods and Namespaces to serve as a static cluster; re-read when it changes."
    )
    var kubeObjects: String?

    @Flag(
        name: .customLong("allow-empty-cluster"),
        help: "Serve an objects file with no objects as an empty cluster (without it, such a file is taken for a bad edit and not served).")
    var allowEmptyCluster = false

    func validate() throws {
        let name: DNSName
        do {
            name = try DNSName(domain)
        } catch {
            throw ValidationError("--domain \(domain): \(error)")
        }
        // The apex names (dns-version.<domain>, the longest) must fit too.
        guard name.wire.count + 12 <= 255 else {
            throw ValidationError("--domain \(domain): too long for dns-version.\(domain) to be a name")
        }
        guard ttl <= 604_800 else { throw ValidationError("--ttl \(ttl): at most 604800 (one week)") }
    }

    func options(serial: UInt32) throws -> RecordOptions {
        RecordOptions(domain: try DNSName(domain), ttl: ttl, pods: pods, serial: serial)
    }
}

extension RecordOptions.PodMode: ExpressibleByArgument {}
