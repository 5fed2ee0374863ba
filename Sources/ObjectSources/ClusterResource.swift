/// The resources a cluster's records are made of, as the sync gate counts
/// them: Endpoints and EndpointSlices are one resource (a server serves one
/// or the other).
public enum ClusterResource: Hashable, Sendable {
    case services, endpoints, namespaces, pods, serviceImports
}
