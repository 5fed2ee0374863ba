/// One object created, replaced (the new value) or deleted (nil).
public enum ObjectChange: Sendable {
    case service(ObjectKey, Service?)
    case endpointSlice(ObjectKey, EndpointSlice?)
    case endpoints(ObjectKey, Endpoints?)
    case namespace(String, Namespace?)
    case pod(ObjectKey, Pod?)
    case serviceImport(ObjectKey, ServiceImport?)

    /// Whether the object is deleted (else created or replaced).
    var isDeletion: Bool {
        switch self {
        case .service(_, let new): return new == nil
        case .endpointSlice(_, let new): return new == nil
        case .endpoints(_, let new): return new == nil
        case .namespace(_, let new): return new == nil
        case .pod(_, let new): return new == nil
        case .serviceImport(_, let new): return new == nil
        }
    }

    /// The namespace the object lives in ("" for none).
    var namespace: String {
        switch self {
        case .service(let key, _), .endpointSlice(let key, _), .endpoints(let key, _), .pod(let key, _), .serviceImport(let key, _):
            return key.namespace
        case .namespace(let name, _): return name
        }
    }
}

extension ClusterObjects {
    /// Makes one change; returns whether the object was there before.
    @discardableResult
    public mutating func apply(_ change: ObjectChange) -> Bool {
        switch change {
        case .service(let key, let new): return services.updateOrRemove(new, forKey: key)
        case .endpointSlice(let key, let new): return endpointSlices.updateOrRemove(new, forKey: key)
        case .endpoints(let key, let new): return endpoints.updateOrRemove(new, forKey: key)
        case .namespace(let name, let new): return namespaces.updateOrRemove(new, forKey: name)
        case .pod(let key, let new): return pods.updateOrRemove(new, forKey: key)
        case .serviceImport(let key, let new): return serviceImports.updateOrRemove(new, forKey: key)
        }
    }
}

extension Dictionary {
    /// Stores or (for nil) removes; returns whether the key had a value.
    fileprivate mutating func updateOrRemove(_ value: Value?, forKey key: Key) -> Bool {
        if let value { return updateValue(value, forKey: key) != nil }
        return removeValue(forKey: key) != nil
    }
}
