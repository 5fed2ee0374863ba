/// A collection the simulator serves, cluster-wide, as the API server
/// lays it out.
public struct SimulatedResource: Sendable, Hashable {
    /// `services`, `endpoints`, `endpointslices`, `namespaces`, `pods`.
    public var plural: String
    public var kind: String
    public var groupVersion: String
    public var namespaced: Bool

    public static let services = SimulatedResource(plural: "services", kind: "Service", groupVersion: "v1", namespaced: true)
    public static let endpoints = SimulatedResource(plural: "endpoints", kind: "Endpoints", groupVersion: "v1", namespaced: true)
    public static let endpointSlices = SimulatedResource(
        plural: "endpointslices", kind: "EndpointSlice", groupVersion: "discovery.k8s.io/v1", namespaced: true)
    public static let namespaces = SimulatedResource(plural: "namespaces", kind: "Namespace", groupVersion: "v1", namespaced: false)
    public static let pods = SimulatedResource(plural: "pods", kind: "Pod", groupVersion: "v1", namespaced: true)
    public static let serviceImports = SimulatedResource(
        plural: "serviceimports", kind: "ServiceImport", groupVersion: "multicluster.x-k8s.io/v1alpha1", namespaced: true)

    public static let all: [SimulatedResource] = [.services, .endpoints, .endpointSlices, .namespaces, .pods, .serviceImports]

    /// The collection's path: `/api/v1/services`, `/apis/discovery.k8s.io/v1/endpointslices`.
    public var path: String { (groupVersion == "v1" ? "/api/v1/" : "/apis/\(groupVersion)/") + plural }

    /// The resource an object of `kind` belongs to.
    public static func of(kind: String) -> SimulatedResource? { all.first { $0.kind == kind } }
}
