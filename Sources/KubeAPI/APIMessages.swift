import JSONDecoding

/// A page of a list (`*List`): the items, the collection's resourceVersion,
/// and the token for the next page.
struct ListPage<Object: JSONDecodable>: JSONDecodable {
    var items: [Object]
    var resourceVersion: String
    var continueToken: String?

    init(json: JSONNode) throws {
        let meta = try json.decode(JSONNode.self, at: "metadata")
        resourceVersion = try meta.decode(String.self, at: "resourceVersion")
        continueToken = try meta.decodeIfPresent(String.self, at: "continue").flatMap { $0.isEmpty ? nil : $0 }
        // `items: null` is an empty list.
        items = try json.decodeIfPresent([Object].self, at: "items") ?? []
    }
}

/// One line of a watch stream (`metav1.WatchEvent`).
public enum WatchEvent<Object: JSONDecodable & Sendable>: Sendable {
    case added(Object, resourceVersion: String)
    case modified(Object, resourceVersion: String)
    case deleted(Object, resourceVersion: String)
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
            let object = try json.decode(Object.self, at: "object")
            let version = try json.decode(Versioned.self, at: "object").resourceVersion
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
