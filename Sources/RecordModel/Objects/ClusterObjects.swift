/// The objects of a cluster that DNS is made from, keyed by namespace and
/// name. A value: sources build it, the record model reads it.
public struct ClusterObjects: Hashable, Sendable {
    public var services: [ObjectKey: Service] = [:]
    public var endpoints: [ObjectKey: Endpoints] = [:]
    public var endpointSlices: [ObjectKey: EndpointSlice] = [:]
    public var pods: [ObjectKey: Pod] = [:]
    public var namespaces: [String: Namespace] = [:]
    public var serviceImports: [ObjectKey: ServiceImport] = [:]

    public init() {}

    /// Every namespace that has an object, or is one.
    public var namespaceNames: Set<String> {
        var names = Set(namespaces.keys)
        for key in services.keys { names.insert(key.namespace) }
        for key in endpoints.keys { names.insert(key.namespace) }
        for key in endpointSlices.keys { names.insert(key.namespace) }
        for key in pods.keys { names.insert(key.namespace) }
        names.remove("")
        return names
    }

    /// The EndpointSlices of each Service.
    public var slicesByService: [ObjectKey: [EndpointSlice]] {
        var result: [ObjectKey: [EndpointSlice]] = [:]
        for slice in endpointSlices.values {
            guard let service = slice.serviceKey else { continue }
            result[service, default: []].append(slice)
        }
        return result
    }
}
