import JSONDecoding
import RecordModel

/// One object of an objects file, told apart by its `kind`. A `List`
/// holds more of them; kinds DNS does not use are kept as `.other` so a
/// full `kubectl get -o yaml` dump loads.
enum KubeDocument: JSONDecodable {
    case service(Service)
    case endpoints(Endpoints)
    case endpointSlice(EndpointSlice)
    case pod(Pod)
    case namespace(Namespace)
    case serviceImport(ServiceImport)
    case list([KubeDocument])
    case other(String)

    init(json: JSONNode) throws {
        let kind = try json.decode(String.self, at: "kind")
        switch kind {
        case "Service": self = .service(try Service(json: json))
        case "Endpoints": self = .endpoints(try Endpoints(json: json))
        case "EndpointSlice": self = .endpointSlice(try EndpointSlice(json: json))
        case "Pod": self = .pod(try Pod(json: json))
        case "Namespace": self = .namespace(try Namespace(json: json))
        case "ServiceImport": self = .serviceImport(try ServiceImport(json: json))
        case _ where kind.hasSuffix("List"):
            self = .list(try json.decodeIfPresent([KubeDocument].self, at: "items") ?? [])
        default: self = .other(kind)
        }
    }
}

extension ClusterObjects {
    /// Adds a document's objects; namespaced objects without a namespace
    /// are in `default`, as kubectl puts them.
    mutating func add(_ document: KubeDocument) {
        switch document {
        case .service(let s): Self.insert(s, into: &services)
        case .endpoints(let e): Self.insert(e, into: &endpoints)
        case .endpointSlice(let e): Self.insert(e, into: &endpointSlices)
        case .pod(let p): Self.insert(p, into: &pods)
        case .namespace(let n): namespaces[n.metadata.name] = n
        case .serviceImport(let s): Self.insert(s, into: &serviceImports)
        case .list(let items): for item in items { add(item) }
        case .other: break
        }
    }

    private static func insert<T: Namespaced>(_ object: T, into objects: inout [ObjectKey: T]) {
        var object = object
        if object.metadata.namespace.isEmpty { object.metadata.namespace = "default" }
        objects[object.metadata.key] = object
    }
}

/// An object that lives in a namespace.
protocol Namespaced {
    var metadata: ObjectMeta { get set }
}

extension Service: Namespaced {}
extension Endpoints: Namespaced {}
extension EndpointSlice: Namespaced {}
extension Pod: Namespaced {}
extension ServiceImport: Namespaced {}
