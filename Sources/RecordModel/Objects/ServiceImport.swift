import JSONDecoding

/// A multicluster.x-k8s.io ServiceImport (the Multi-Cluster Services
/// API, KEP-1645), reduced to what DNS needs: a service exported from
/// the clusters of a clusterset, by its ClusterSetIPs or, headless, by
/// the endpoints of each cluster (EndpointSlices labelled with it).
public struct ServiceImport: Hashable, Sendable, JSONDecodable {
    public var metadata: ObjectMeta
    public var isHeadless: Bool
    public var ips: [String]
    public var ports: [Service.Port]

    public init(metadata: ObjectMeta, headless: Bool, ips: [String], ports: [Service.Port]) {
        self.metadata = metadata
        isHeadless = headless
        self.ips = ips
        self.ports = ports
    }

    public init(json: JSONNode) throws {
        metadata = try json.decode(ObjectMeta.self, at: "metadata")
        let spec = try json.member("spec")
        isHeadless = try spec?.decodeIfPresent(String.self, at: "type") == "Headless"
        ips = try spec?.decodeIfPresent([String].self, at: "ips") ?? []
        ports = try spec?.decodeIfPresent([Service.Port].self, at: "ports") ?? []
    }

    /// The labels of an EndpointSlice that carries an import's endpoints from one cluster.
    public static let serviceNameLabel = "multicluster.kubernetes.io/service-name"
    public static let sourceClusterLabel = "multicluster.kubernetes.io/source-cluster"
}
