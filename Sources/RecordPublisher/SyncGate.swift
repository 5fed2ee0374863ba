/// "Every resource listed once": a source is complete when each of the
/// resources it needs has been read whole at least once.
public struct SyncGate<Resource: Hashable & Sendable>: Sendable {
    public let required: Set<Resource>
    private var listed: Set<Resource> = []

    public init(required: Set<Resource>) { self.required = required }

    public var isOpen: Bool { listed.isSuperset(of: required) }

    /// Notes that `resource` has been read whole.
    public mutating func listed(_ resource: Resource) { listed.insert(resource) }
}
