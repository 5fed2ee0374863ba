import JSONDecoding

/// A page of a list (`*List`): the items, the collection's resourceVersion,
/// and the token for the next page.
/// An item that cannot be decoded is set aside in `skipped`, so that one
/// odd object does not stop its whole kind.
struct ListPage<Object: JSONDecodable>: JSONDecodable {
    var items: [Object] = []
    var skipped: [UndecodableObject] = []
    var resourceVersion: String
    var continueToken: String?

    init(json: JSONNode) throws {
        let meta = try json.decode(JSONNode.self, at: "metadata")
        resourceVersion = try meta.decode(String.self, at: "resourceVersion")
        continueToken = try meta.decodeIfPresent(String.self, at: "continue").flatMap { $0.isEmpty ? nil : $0 }
        // `items: null` is an empty list.
        for item in try json.decodeIfPresent([JSONNode].self, at: "items") ?? [] {
            do {
                items.append(try Object(json: item))
            } catch {
                skipped.append(UndecodableObject(item, error))
            }
        }
    }
}

/// An object the informer cannot read (a port that is a string, a Service
/// without `spec`): its name for the log, and why.
public struct UndecodableObject: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    public var reason: String

    init(_ json: JSONNode, _ error: any Error) {
        let meta = try? json.decode(JSONNode.self, at: "metadata")
        namespace = (try? meta?.decodeIfPresent(String.self, at: "namespace")) ?? ""
        name = (try? meta?.decodeIfPresent(String.self, at: "name")) ?? ""
        reason = String(((error as? DecodingError)?.oneLine ?? "\(error)").prefix(200))
    }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }
}

/// One line of a watch stream (`metav1.WatchEvent`).
public enum WatchEvent<Object: JSONDecodable & Sendable>: Sendable {
    case added(Object, resourceVersion: String)
    case modified(Object, resourceVersion: String)
    case deleted(Object, resourceVersion: String)
    /// A change to an object that cannot be decoded: passed over.
    case undecodable(UndecodableObject, resourceVersion: String)
    /// Nothing changed, but the stream has reached this resourceVersion.
    case bookmark(resourceVersion: String)
    /// The server ends the watch with a `Status` (410 when the
    /// resourceVersion has expired).
    case error(code: Int, message: String)
}

extension WatchEvent: JSONDecodable {
    public init(json: JSONNode) throws {
        let typeNode = try json.decode(JSONNode.self, at: "type")
        let type = try typeNode.string()
        switch type {
        case "ERROR":
            let status = try json.decode(Status.self, at: "object")
            self = .error(code: status.code ?? 500, message: status.summary)
        case "BOOKMARK":
            self = .bookmark(resourceVersion: try json.decode(Versioned.self, at: "object").resourceVersion)
        case "ADDED", "MODIFIED", "DELETED":
            let version = try json.decode(Versioned.self, at: "object").resourceVersion
            let node = try json.decode(JSONNode.self, at: "object")
            let object: Object
            do {
                object = try Object(json: node)
            } catch {
                self = .undecodable(UndecodableObject(node, error), resourceVersion: version)
                return
            }
            switch type {
            case "ADDED": self = .added(object, resourceVersion: version)
            case "MODIFIED": self = .modified(object, resourceVersion: version)
            default: self = .deleted(object, resourceVersion: version)
            }
        default:
            throw DecodingError.dataCorrupted(
                .init(codingPath: typeNode.codingPath, debugDescription: "unknown watch event type \(type)"))
        }
    }
}

/// The resourceVersion of any object.
private struct Versioned: JSONDecodable {
    var resourceVersion: String

    init(json: JSONNode) throws {
        resourceVersion = try json.decode(JSONNode.self, at: "metadata").decode(String.self, at: "resourceVersion")
    }
}

/// `metav1.Status`, as errors come.
struct Status: JSONDecodable {
    var code: Int?
    var reason: String?
    var message: String?

    init(json: JSONNode) throws {
        code = try json.decodeIfPresent(Int.self, at: "code")
        reason = try json.decodeIfPresent(String.self, at: "reason")
        message = try json.decodeIfPresent(String.self, at: "message")
    }

    var summary: String { [reason, message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ") }
}
