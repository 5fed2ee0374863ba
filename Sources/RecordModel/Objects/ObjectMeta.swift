import JSONDecoding

/// The metadata DNS needs of any Kubernetes object. Not its
/// resourceVersion (the informers read that from the events): an update
/// that changes nothing DNS reads then compares equal and costs no work.
public struct ObjectMeta: Hashable, Sendable, JSONDecodable {
    /// Namespace and name, kept as the one key objects go by (16 bytes
    /// where two strings took 32, in each of a cluster's objects).
    public private(set) var key: ObjectKey
    public var labels: [String: String]
    public var annotations: [String: String]

    public init(
        name: String, namespace: String = "", labels: [String: String] = [:],
        annotations: [String: String] = [:]
    ) {
        key = ObjectKey(namespace: namespace, name: name)
        self.labels = labels
        self.annotations = annotations
    }

    public var name: String {
        get { key.name }
        set { key = ObjectKey(namespace: key.namespace, name: newValue) }
    }

    public var namespace: String {
        get { key.namespace }
        set { key = ObjectKey(namespace: newValue, name: key.name) }
    }

    public init(json: JSONNode) throws {
        key = ObjectKey(
            namespace: try json.decodeIfPresent(String.self, at: "namespace") ?? "",
            name: try json.decode(String.self, at: "name"))
        labels = try Self.strings(Self.labelsRead, in: json.member("labels"))
        annotations = try Self.strings(Self.annotationsRead, in: json.member("annotations"))
    }

    /// The only labels and annotations DNS reads; the rest is not kept, as
    /// a cluster's objects carry far more than DNS needs.
    static let labelsRead: Set<String> = [
        EndpointSlice.serviceNameLabel, ServiceImport.serviceNameLabel, ServiceImport.sourceClusterLabel,
    ]
    static let annotationsRead: Set<String> = [Service.tolerateUnreadyAnnotation]

    /// The entries of a string map whose key is one of `keys`, kept when
    /// they are a string (or a YAML scalar written without quotes, like
    /// `true`) and skipped when not, so one odd label never makes an
    /// object unreadable. The other entries are not read at all: objects
    /// carry many labels and annotations, kubectl's
    /// last-applied-configuration among them, and DNS reads one of each.
    private static func strings(_ keys: Set<String>, in map: JSONNode?) throws -> [String: String] {
        guard let map, !map.isNull else { return [:] }
        var found: [String: String] = [:]
        for name in keys {
            guard let value = try map.member(name) else { continue }
            if let text = try? value.string() {
                found[name] = text
            } else if let flag = try? value.bool() {
                found[name] = String(flag)
            } else if let number = try? value.integer(Int.self) {
                found[name] = String(number)
            }
        }
        return found
    }
}

/// Namespace and name: how objects are told apart. Kept as one string,
/// `namespace/name`: the indexes of a large cluster hold hundreds of
/// thousands of keys, and two strings took 32 bytes a key where one takes
/// 16 (and short keys stay inline). Namespaces are DNS labels, without a
/// `/`; one that has it anyway (an odd objects file) has its `/` and `%`
/// percent-escaped, so two different keys never join alike.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    private let joined: String

    public init(namespace: String, name: String) {
        let plain = !namespace.utf8.contains(where: { $0 == Self.separator || $0 == Self.escape })
        joined = (plain ? namespace : Self.escaped(namespace)) + "/" + name
    }

    public var namespace: String {
        let text = String(joined[..<separatorIndex])
        return text.utf8.contains(Self.escape) ? Self.unescaped(text) : text
    }

    public var name: String { String(joined[joined.utf8.index(after: separatorIndex)...]) }

    /// Where the namespace ends: the first `/`, as the namespace has none.
    private var separatorIndex: String.Index { joined.utf8.firstIndex(of: Self.separator)! }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }

    private static let separator = UInt8(ascii: "/")
    private static let escape = UInt8(ascii: "%")

    private static func escaped(_ namespace: String) -> String {
        namespace.replacing("%", with: "%25").replacing("/", with: "%2F")
    }

    private static func unescaped(_ namespace: String) -> String {
        namespace.replacing("%2F", with: "/").replacing("%25", with: "%")
    }
}
