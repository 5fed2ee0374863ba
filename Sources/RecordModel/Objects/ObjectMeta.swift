/// The metadata DNS needs of any Kubernetes object. Not its
/// resourceVersion (the informers read that from the events): an update
/// that changes nothing DNS reads then compares equal and costs no work.
public struct ObjectMeta: Hashable, Sendable, Decodable {
    public var name: String
    public var namespace: String
    public var labels: [String: String]
    public var annotations: [String: String]

    public init(
        name: String, namespace: String = "", labels: [String: String] = [:],
        annotations: [String: String] = [:]
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }

    private enum CodingKeys: String, CodingKey {
        case name, namespace, labels, annotations
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        namespace = try c.decodeIfPresent(String.self, forKey: .namespace) ?? ""
        labels = try c.decodeIfPresent(LenientStringMap.self, forKey: .labels)?.values(Self.labelsRead) ?? [:]
        annotations =
            try c.decodeIfPresent(LenientStringMap.self, forKey: .annotations)?.values(Self.annotationsRead) ?? [:]
    }

    /// The only labels and annotations DNS reads; the rest is not kept, as
    /// a cluster's objects carry far more than DNS needs.
    static let labelsRead: Set<String> = [EndpointSlice.serviceNameLabel]
    static let annotationsRead: Set<String> = [Service.tolerateUnreadyAnnotation]

    /// Objects are keyed by namespace and name.
    public var key: ObjectKey { ObjectKey(namespace: namespace, name: name) }
}

/// Namespace and name: how objects are told apart.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}

/// A string map that keeps what is a string (or a YAML scalar written
/// without quotes, like `true`) and skips the rest, so one odd label
/// never makes an object unreadable.
struct LenientStringMap: Decodable {
    private var all: [String: String] = [:]

    /// The entries whose key is in `keys`.
    func values(_ keys: Set<String>) -> [String: String] { all.filter { keys.contains($0.key) } }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for key in c.allKeys {
            if let s = try? c.decode(String.self, forKey: key) {
                all[key.stringValue] = s
            } else if let b = try? c.decode(Bool.self, forKey: key) {
                all[key.stringValue] = String(b)
            } else if let i = try? c.decode(Int.self, forKey: key) {
                all[key.stringValue] = String(i)
            }
        }
    }
}
