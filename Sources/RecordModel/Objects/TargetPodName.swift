import JSONDecoding
import Synchronization

/// The pod an endpoint's `targetRef` names, read only while some
/// configuration names endpoints for their pods (CoreDNS's
/// `endpoint_pod_names`): most endpoints have no hostname, and a pod
/// name each would be kept for every endpoint of a large cluster.
public enum TargetPodName {
    /// Set before a source's first list, for the objects it decodes.
    public static let isRead = Atomic<Bool>(false)

    /// `targetRef.name` of an endpoint without a hostname, when it is a pod's and names are read.
    static func read(from endpoint: JSONNode, hostname: String?) throws -> String? {
        guard hostname == nil, isRead.load(ordering: .relaxed), let reference = try endpoint.member("targetRef"),
            !reference.isNull, try reference.decodeIfPresent(String.self, at: "kind") == "Pod"
        else { return nil }
        return try reference.decodeIfPresent(String.self, at: "name")
    }
}
