import Foundation

/// A page of a list (`*List`): the items, the collection's resourceVersion,
/// and the token for the next page.
struct ListPage<Object: Decodable>: Decodable {
    var items: [Object]
    var resourceVersion: String
    var continueToken: String?

    private enum CodingKeys: String, CodingKey { case metadata, items }
    private enum MetaKeys: String, CodingKey {
        case resourceVersion
        case continueToken = "continue"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let meta = try c.nestedContainer(keyedBy: MetaKeys.self, forKey: .metadata)
        resourceVersion = try meta.decode(String.self, forKey: .resourceVersion)
        continueToken = try meta.decodeIfPresent(String.self, forKey: .continueToken).flatMap { $0.isEmpty ? nil : $0 }
        // `items: null` is an empty list.
        items = try c.decodeIfPresent([Object].self, forKey: .items) ?? []
    }
}

/// One line of a watch stream (`metav1.WatchEvent`).
public enum WatchEvent<Object: Decodable & Sendable>: Sendable {
    case added(Object, resourceVersion: String)
    case modified(Object, resourceVersion: String)
    case deleted(Object, resourceVersion: String)
    /// Nothing changed, but the stream has reached this resourceVersion.
    case bookmark(resourceVersion: String)
    /// The server ends the watch with a `Status` (410 when the
    /// resourceVersion has expired).
    case error(code: Int, message: String)
}

extension WatchEvent: Decodable {
    private enum CodingKeys: String, CodingKey { case type, object }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "ERROR":
            let status = try c.decode(Status.self, forKey: .object)
            self = .error(code: status.code ?? 500, message: status.summary)
        case "BOOKMARK":
            self = .bookmark(resourceVersion: try c.decode(Versioned.self, forKey: .object).resourceVersion)
        case "ADDED", "MODIFIED", "DELETED":
            let object = try c.decode(Object.self, forKey: .object)
            let version = try c.decode(Versioned.self, forKey: .object).resourceVersion
            switch type {
            case "ADDED": self = .added(object, resourceVersion: version)
            case "MODIFIED": self = .modified(object, resourceVersion: version)
            default: self = .deleted(object, resourceVersion: version)
            }
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown watch event type \(type)")
        }
    }
}

/// The resourceVersion of any object.
private struct Versioned: Decodable {
    var resourceVersion: String

    private enum CodingKeys: String, CodingKey { case metadata }
    private enum MetaKeys: String, CodingKey { case resourceVersion }

    init(from decoder: any Decoder) throws {
        let meta = try decoder.container(keyedBy: CodingKeys.self).nestedContainer(keyedBy: MetaKeys.self, forKey: .metadata)
        resourceVersion = try meta.decode(String.self, forKey: .resourceVersion)
    }
}

/// `metav1.Status`, as errors come.
struct Status: Decodable {
    var code: Int?
    var reason: String?
    var message: String?

    var summary: String { [reason, message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ") }
}
