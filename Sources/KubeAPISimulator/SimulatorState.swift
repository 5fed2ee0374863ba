import Foundation
import LabelSelectors
import NIOCore

/// What the simulated API server holds: objects at their resourceVersions,
/// the history of changes a watch replays, open watches and active faults.
/// Guarded by the simulator's lock; every method runs under it.
struct SimulatorState {
    /// The cluster's resourceVersion: one counter over all resources, as etcd's revision.
    var revision = 1
    var objects: [SimulatedResource: [String: JSONValue]] = [:]
    /// Changes after `compactedRevision`, oldest first.
    var history: [Change] = []
    /// Watches and continue tokens from before this are answered 410 Gone.
    var compactedRevision = 0
    var watches: [ObjectIdentifier: Watch] = [:]
    var faults = Faults()
    var requests: [RecordedRequest] = []
    /// Each resource's keys in order, for paging; dropped on every change.
    private var sortedKeyCache: [SimulatedResource: [String]] = [:]

    mutating func sortedKeys(_ resource: SimulatedResource) -> [String] {
        if let keys = sortedKeyCache[resource] { return keys }
        let keys = (objects[resource] ?? [:]).keys.sorted()
        sortedKeyCache[resource] = keys
        return keys
    }

    struct Change {
        var revision: Int
        var resource: SimulatedResource
        var type: String
        var object: JSONValue
        /// The object before a MODIFIED, for watches with a label selector.
        var previous: JSONValue?

        /// The event a watch picking objects by `selector` sees, as the
        /// API server's watch cache sends it: an object that starts
        /// matching is ADDED, one that stops matching is DELETED.
        func seen(through selector: LabelSelector?) -> (type: String, object: JSONValue)? {
            guard let selector else { return (type, object) }
            let now = selector.matches(object.labels)
            let before = previous.map { selector.matches($0.labels) } ?? false
            switch (type, before, now) {
            case ("MODIFIED", false, true): return ("ADDED", object)
            case ("MODIFIED", true, false): return ("DELETED", object)
            case (_, _, true): return (type, object)
            default: return nil
            }
        }
    }

    struct Watch {
        var resource: SimulatedResource
        var selector: LabelSelector?
        var channel: any Channel
        var bookmarks: Bool
        /// A stalled stream stays open and sends nothing more.
        var stalled = false
    }

    struct Faults {
        /// Every request is answered with this status until then, after
        /// `delay`, with `Retry-After: retryAfter` (seconds) on a 429.
        var failure: (status: Int, until: ContinuousClock.Instant, delay: Duration, retryAfter: Int)?
        /// How long lists wait, and whether first pages are spared.
        var listDelay: (delay: Duration, afterFirstPage: Bool) = (.zero, false)
        /// An expired resourceVersion on a watch: HTTP 410, or (as the
        /// API server's watch cache does) 200 then an ERROR event.
        var goneAsHTTPStatus = false
        var endpointSlicesServed = true
    }

    /// Stores an object (created or replaced), stamping its resourceVersion.
    mutating func commit(_ resource: SimulatedResource, _ object: JSONValue) -> Change {
        var object = object
        let key = Self.key(resource, &object)
        revision += 1
        object["metadata"]?["resourceVersion"] = .string("\(revision)")
        if object["metadata"]?["uid"] == nil { object["metadata"]?["uid"] = .string(UUID().uuidString.lowercased()) }
        object["kind"] = .string(resource.kind)
        object["apiVersion"] = .string(resource.groupVersion)
        let previous = objects[resource]?[key]
        let type = previous == nil ? "ADDED" : "MODIFIED"
        objects[resource, default: [:]][key] = object
        if type == "ADDED" { sortedKeyCache[resource] = nil }
        let change = Change(revision: revision, resource: resource, type: type, object: object, previous: previous)
        record(change)
        return change
    }

    /// Removes an object; the DELETED event carries its last state at the new revision.
    mutating func delete(_ resource: SimulatedResource, namespace: String, name: String) -> Change? {
        let key = resource.namespaced ? "\(namespace)/\(name)" : name
        guard var object = objects[resource]?.removeValue(forKey: key) else { return nil }
        sortedKeyCache[resource] = nil
        revision += 1
        object["metadata"]?["resourceVersion"] = .string("\(revision)")
        let change = Change(revision: revision, resource: resource, type: "DELETED", object: object)
        record(change)
        return change
    }

    /// `namespace/name` (or `name`), defaulting a namespaced object's namespace as kubectl does.
    static func key(_ resource: SimulatedResource, _ object: inout JSONValue) -> String {
        if object["metadata"] == nil { object["metadata"] = .object([:]) }
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        guard resource.namespaced else { return name }
        var namespace = object["metadata"]?["namespace"]?.stringValue ?? ""
        if namespace.isEmpty {
            namespace = "default"
            object["metadata"]?["namespace"] = .string(namespace)
        }
        return "\(namespace)/\(name)"
    }

    /// Keeps a change for watches to replay; the oldest are forgotten as
    /// etcd compacts, so a long-running simulator does not grow without end.
    private mutating func record(_ change: Change) {
        history.append(change)
        if history.count > 200_000 {
            history.removeFirst(100_000)
            compactedRevision = history[0].revision - 1
        }
    }

    /// Forgets the history up to now: older resourceVersions become 410 Gone.
    mutating func compact() {
        compactedRevision = revision
        history.removeAll()
    }

    /// The changes to `resource` after `version`, or nil when they are no longer known.
    func changes(_ resource: SimulatedResource, after version: Int) -> [Change]? {
        guard version >= compactedRevision else { return nil }
        return history.filter { $0.resource == resource && $0.revision > version }
    }
}

/// A request as the simulator saw it, for tests to check.
public struct RecordedRequest: Sendable {
    public var method: String
    public var uri: String
    public var userAgent: String?
    public var authorization: String?
    public var accept: String?
    /// When its head arrived.
    public var receivedAt = ContinuousClock.now
}

extension JSONValue {
    /// `metadata.labels`, its string values.
    var labels: [String: String] {
        guard case .object(let labels)? = self["metadata"]?["labels"] else { return [:] }
        return labels.compactMapValues(\.stringValue)
    }
}
