/// One object created, replaced (the new value) or deleted (nil).
public enum ObjectChange: Sendable {
    case service(ObjectKey, Service?)
    case endpointSlice(ObjectKey, EndpointSlice?)
    case endpoints(ObjectKey, Endpoints?)
    case namespace(String, Namespace?)
    case pod(ObjectKey, Pod?)

    /// The namespace the object lives in ("" for none).
    var namespace: String {
        switch self {
        case .service(let key, _), .endpointSlice(let key, _), .endpoints(let key, _), .pod(let key, _): return key.namespace
        case .namespace(let name, _): return name
        }
    }
}
