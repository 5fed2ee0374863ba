import KubeAPI
import RecordModel

/// A change to the cluster's objects, as an informer reports it.
public enum ObjectUpdate: Sendable {
    case services(InformerUpdate<Service>)
    case endpointSlices(InformerUpdate<EndpointSlice>)
    case endpoints(InformerUpdate<Endpoints>)
    case namespaces(InformerUpdate<Namespace>)
    case pods(InformerUpdate<Pod>)

    /// The resource listed, when this is a full list (its informer has synced).
    public var listedResource: String? {
        switch self {
        case .services(.replaced): return "services"
        case .endpointSlices(.replaced), .endpoints(.replaced): return "endpoints"
        case .namespaces(.replaced): return "namespaces"
        case .pods(.replaced): return "pods"
        default: return nil
        }
    }
}

/// What an update changed, by what records are made of: a Service's
/// records depend on it and its endpoints; a namespace and a pod stand alone.
public struct TouchedObjects: Sendable, Equatable {
    public var services: Set<ObjectKey> = []
    public var namespaces: Set<String> = []
    public var pods: Set<ObjectKey> = []

    public init() {}

    public var isEmpty: Bool { services.isEmpty && namespaces.isEmpty && pods.isEmpty }

    public mutating func formUnion(_ other: TouchedObjects) {
        services.formUnion(other.services)
        namespaces.formUnion(other.namespaces)
        pods.formUnion(other.pods)
    }
}

extension ClusterObjects {
    /// Applies an update and says what it touched. A list replaces the
    /// resource's objects: what it lacks was deleted while we were not watching.
    @discardableResult
    public mutating func apply(_ update: ObjectUpdate) -> TouchedObjects {
        var touched = TouchedObjects()
        switch update {
        case .services(let u):
            for service in services.apply(u, key: \.metadata.key) { touched.services.insert(service.metadata.key) }
        case .endpointSlices(let u):
            for slice in endpointSlices.apply(u, key: \.metadata.key) {
                if let service = slice.serviceKey { touched.services.insert(service) }
            }
        case .endpoints(let u):
            for endpoints in endpoints.apply(u, key: \.metadata.key) { touched.services.insert(endpoints.metadata.key) }
        case .namespaces(let u):
            for namespace in namespaces.apply(u, key: \.metadata.name) { touched.namespaces.insert(namespace.metadata.name) }
        case .pods(let u):
            for pod in pods.apply(u, key: \.metadata.key) { touched.pods.insert(pod.metadata.key) }
        }
        return touched
    }
}

extension Dictionary where Value: Hashable & Sendable {
    /// Applies an informer update; returns the objects it touched, before
    /// and after (a changed Endpoints may move a Service's records).
    mutating func apply(_ update: InformerUpdate<Value>, key: (Value) -> Key) -> [Value] {
        switch update {
        case .added(let object), .modified(let object):
            let old = updateValue(object, forKey: key(object))
            return old.map { $0 == object ? [] : [$0, object] } ?? [object]
        case .deleted(let object):
            return removeValue(forKey: key(object)).map { [$0] } ?? []
        case .replaced(let objects):
            var fresh: [Key: Value] = [:]
            fresh.reserveCapacity(objects.count)
            for object in objects { fresh[key(object)] = object }
            var touched: [Value] = []
            for (k, old) in self where fresh[k] != old { touched.append(old) }
            for (k, new) in fresh where self[k] != new { touched.append(new) }
            self = fresh
            return touched
        }
    }
}
