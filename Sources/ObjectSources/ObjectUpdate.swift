import KubeAPI
import RecordModel

/// A change to the cluster's objects, as an informer reports it.
public enum ObjectUpdate: Sendable {
    case services(InformerUpdate<Service>)
    case endpointSlices(InformerUpdate<EndpointSlice>)
    case endpoints(InformerUpdate<Endpoints>)
    case namespaces(InformerUpdate<Namespace>)
    case pods(InformerUpdate<Pod>)
    case serviceImports(InformerUpdate<ServiceImport>)

    /// The resource listed, when this is a full list (its informer has synced).
    public var listedResource: ClusterResource? {
        switch self {
        case .services(.replaced): return .services
        case .endpointSlices(.replaced), .endpoints(.replaced): return .endpoints
        case .namespaces(.replaced): return .namespaces
        case .pods(.replaced): return .pods
        case .serviceImports(.replaced): return .serviceImports
        default: return nil
        }
    }
}

extension ClusterObjects {
    /// The object changes an update makes to these objects. A list
    /// replaces the resource's objects: what it lacks was deleted while we
    /// were not watching, and what it has unchanged is no change.
    public func changes(for update: ObjectUpdate) -> [ObjectChange] {
        switch update {
        case .services(let u): return services.changes(u, key: \.metadata.key).map { .service($0, $1) }
        case .endpointSlices(let u): return endpointSlices.changes(u, key: \.metadata.key).map { .endpointSlice($0, $1) }
        case .endpoints(let u): return endpoints.changes(u, key: \.metadata.key).map { .endpoints($0, $1) }
        case .namespaces(let u): return namespaces.changes(u, key: \.metadata.name).map { .namespace($0, $1) }
        case .pods(let u): return pods.changes(u, key: \.metadata.key).map { .pod($0, $1) }
        case .serviceImports(let u): return serviceImports.changes(u, key: \.metadata.key).map { .serviceImport($0, $1) }
        }
    }
}

extension Dictionary {
    /// A list by key; of two objects with one key (which a list does not
    /// have), the later.
    init(keying list: [Value], by key: (Value) -> Key) {
        self.init(minimumCapacity: list.count)
        for object in list { self[key(object)] = object }
    }
}

extension Dictionary where Value: Hashable & Sendable {
    /// Each key an update gives a new value (nil: deleted).
    func changes(_ update: InformerUpdate<Value>, key: (Value) -> Key) -> [(Key, Value?)] {
        switch update {
        case .added(let object), .modified(let object):
            return self[key(object)] == object ? [] : [(key(object), object)]
        case .listing(let objects):
            return objects.compactMap { self[key($0)] == $0 ? nil : (key($0), $0) }
        case .deleted(let object):
            return self[key(object)] == nil ? [] : [(key(object), nil)]
        case .replaced(let objects):
            let fresh = Self(keying: objects, by: key)
            var result: [(Key, Value?)] = []
            for k in keys where fresh[k] == nil { result.append((k, nil)) }
            for (k, new) in fresh where self[k] != new { result.append((k, new)) }
            return result
        }
    }
}
