import JSONDecoding
import Logging
import Synchronization

/// A resource the informers follow, cluster-wide.
public struct ResourceKind: Sendable, Hashable, CustomStringConvertible {
    /// The collection's path, as `/api/v1/services`.
    public var path: String
    /// Only objects this label selector picks (the API's `labelSelector`); nil: all.
    public var labelSelector: String?
    public var description: String { path.split(separator: "/").last.map(String.init) ?? path }

    public init(path: String, labelSelector: String? = nil) {
        self.path = path
        self.labelSelector = labelSelector
    }

    /// The same collection, only the objects `selector` picks.
    public func selecting(_ selector: String?) -> ResourceKind { ResourceKind(path: path, labelSelector: selector) }

    /// A list's or watch's query with the selector added.
    func query(_ items: [(String, String)]) -> [(String, String)] {
        labelSelector.map { items + [("labelSelector", $0)] } ?? items
    }

    public static let services = ResourceKind(path: "/api/v1/services")
    public static let endpoints = ResourceKind(path: "/api/v1/endpoints")
    public static let endpointSlices = ResourceKind(path: "/apis/discovery.k8s.io/v1/endpointslices")
    public static let namespaces = ResourceKind(path: "/api/v1/namespaces")
    public static let pods = ResourceKind(path: "/api/v1/pods")
    public static let serviceImports = ResourceKind(path: "/apis/multicluster.x-k8s.io/v1alpha1/serviceimports")
}

/// What an informer hands on: a whole new set of objects after each list
/// (objects missing from it were deleted meanwhile), then single changes.
public enum InformerUpdate<Object: Sendable>: Sendable {
    /// A page of the first list, as it arrives, so that work on a large
    /// cluster can start before its last page: its objects come again in
    /// the `.replaced` that ends the list, which alone says what was
    /// deleted. A relist is handed on whole when it ends, as client-go's
    /// Reflector replaces its store: one change, whatever its size.
    case listing([Object])
    case replaced([Object])
    case added(Object)
    case modified(Object)
    case deleted(Object)
}

/// How lists and watches are made.
public struct InformerSettings: Sendable {
    /// Items per list page (client-go's default chunk size).
    public var pageSize = 500
    /// Each watch asks the server to end it after a random time between
    /// this and twice this (client-go: 5 to 10 minutes), spreading the
    /// re-watches of many clients; a stream silent that long is dead.
    public var watchTimeout: Duration = .seconds(300)
    /// Told of each event applied, relist and error (with the resource's
    /// name, as `services`), for metrics.
    public var observe: @Sendable (_ resource: String, _ activity: InformerActivity) -> Void = { _, _ in }

    public init() {}
}

/// What an informer did, for its counters.
public enum InformerActivity: Sendable, Equatable {
    /// A watch event applied: `ADDED`, `MODIFIED` or `DELETED`.
    case event(String)
    /// A list again, after a watch could not resume.
    case relist
    /// A list or watch that failed (and is retried).
    case error
    /// An object passed over: it cannot be decoded.
    case skipped
}

/// List, then watch from the list's resourceVersion; watch again when the
/// server ends a watch; list again on 410 Gone; back off on errors. What
/// was handed on stays until a later list or event replaces it: an error
/// never clears anything (client-go's Reflector.ListAndWatch).
public struct Informer<Object: JSONDecodable & Sendable>: Sendable {
    public let client: APIClient
    public let resource: ResourceKind
    public let settings: InformerSettings
    let logger: Logger

    public init(client: APIClient, resource: ResourceKind, settings: InformerSettings, logger: Logger) {
        self.client = client
        self.resource = resource
        self.settings = settings
        self.logger = logger
    }

    /// Runs until the task is cancelled.
    public func run(_ apply: @escaping @Sendable (InformerUpdate<Object>) async -> Void) async {
        var backoff = Backoff()
        var resourceVersion: String?
        var listed = false
        let skips = SkipLog(resource: resource, observe: settings.observe, logger: logger)
        while !Task.isCancelled {
            if resourceVersion == nil {
                do {
                    let clock = ContinuousClock()
                    let start = clock.now
                    let (items, version) = try await list(skips: skips, page: listed ? { _ in } : { await apply(.listing($0)) })
                    await apply(.replaced(items))
                    resourceVersion = version
                    if listed { settings.observe(resource.description, .relist) }
                    logger.info(
                        listed ? "relisted" : "listed",
                        metadata: [
                            "resource": "\(resource)", "objects": "\(items.count)",
                            "resourceVersion": "\(version)", "duration": "\(clock.now - start)",
                        ])
                    listed = true
                } catch {
                    if Task.isCancelled { return }
                    settings.observe(resource.description, .error)
                    let wait = Self.wait(after: error, &backoff)
                    logger.error(
                        "list failed; retrying", metadata: ["resource": "\(resource)", "error": "\(error)", "retry in": "\(wait)"])
                    try? await Task.sleep(for: wait)
                    continue
                }
            }
            let version = VersionCursor(resourceVersion!)
            let stream = WatchStream()
            do {
                try await watch(from: version, stream: stream, skips: skips, apply)
                resourceVersion = version.value
                logger.debug("watch ended; watching again", metadata: ["resource": "\(resource)", "resourceVersion": "\(version.value)"])
            } catch let error as APIError where error.isGone {
                // The history since our version is gone: only a new list
                // can tell what changed (and what was deleted) meanwhile.
                logger.notice(
                    "resourceVersion expired; relisting", metadata: ["resource": "\(resource)", "resourceVersion": "\(version.value)"])
                resourceVersion = nil
            } catch {
                if Task.isCancelled { return }
                settings.observe(resource.description, .error)
                resourceVersion = version.value
                // A stream the server had opened and that then broke after
                // a second or more (a dropped connection, a restarted
                // server) is watched again at once, as client-go's
                // reflector does; a watch the server refused, or failed
                // before it opened however slowly, backs off.
                if stream.brokeAfterWorking {
                    logger.notice("watch broke; watching again", metadata: ["resource": "\(resource)", "error": "\(error)"])
                    continue
                }
                let wait = Self.wait(after: error, &backoff)
                logger.error("watch failed; retrying", metadata: ["resource": "\(resource)", "error": "\(error)", "retry in": "\(wait)"])
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// The backoff's next wait, or longer when the server said how long.
    static func wait(after error: any Error, _ backoff: inout Backoff) -> Duration {
        max(backoff.next(), (error as? APIError)?.retryAfter ?? .zero)
    }

    /// Every page of the list, and the collection's resourceVersion; each
    /// page is handed to `page` as it arrives. An expired continue token
    /// means a fresh list from the first page.
    func list(skips: SkipLog? = nil, page handOn: ([Object]) async -> Void = { _ in }) async throws -> ([Object], String) {
        var items: [Object] = []
        var token: String?
        var version = ""
        repeat {
            var query = [("limit", "\(settings.pageSize)")]
            if let token { query.append(("continue", token)) }
            let page: ListPage<Object>
            do {
                page = try await client.getJSON(ListPage<Object>.self, resource.path, resource.query(query))
            } catch {
                guard error.isGone, token != nil else { throw error }
                logger.notice("list continuation expired; listing from the start", metadata: ["resource": "\(resource)"])
                items.removeAll()
                token = nil
                continue
            }
            if token == nil { version = page.resourceVersion }
            for object in page.skipped { skips?.skip(object) }
            await handOn(page.items)
            items += page.items
            token = page.continueToken
        } while token != nil
        return (items, version)
    }

    private func watch(
        from version: VersionCursor, stream: WatchStream, skips: SkipLog,
        _ apply: @escaping @Sendable (InformerUpdate<Object>) async -> Void
    )
        async throws
    {
        let seconds = Int.random(in: settings.watchTimeout.seconds..<(2 * settings.watchTimeout.seconds))
        let query = [
            ("watch", "true"), ("resourceVersion", version.value), ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", "\(seconds)"),
        ]
        let observe = settings.observe
        let path = resource.description
        try await client.watch(resource.path, resource.query(query), silence: .seconds(seconds + 1), opened: stream.open) {
            (event: WatchEvent<Object>) in
            switch event {
            case .added(let object, let v):
                await apply(.added(object))
                version.value = v
                observe(path, .event("ADDED"))
            case .modified(let object, let v):
                await apply(.modified(object))
                version.value = v
                observe(path, .event("MODIFIED"))
            case .deleted(let object, let v):
                await apply(.deleted(object))
                version.value = v
                observe(path, .event("DELETED"))
            case .undecodable(let object, let v):
                skips.skip(object)
                version.value = v
            case .bookmark(let v):
                version.value = v
            case .error(let code, let message):
                throw APIError.status(code: code, message: message)
            }
        }
    }
}

/// When the server opened a watch stream, if it did.
final class WatchStream: Sendable {
    private let openedAt = Mutex<ContinuousClock.Instant?>(nil)

    @Sendable func open() { openedAt.withLock { $0 = .now } }

    /// Opened, and open a second or more before it ended.
    var brokeAfterWorking: Bool { openedAt.withLock { $0.map { ContinuousClock.now - $0 >= .seconds(1) } ?? false } }
}

/// Objects passed over, each logged once (by name and reason) and counted.
final class SkipLog: Sendable {
    private let resource: ResourceKind
    private let observe: @Sendable (String, InformerActivity) -> Void
    private let logger: Logger
    private let logged = Mutex<Set<UndecodableObject>>([])

    init(resource: ResourceKind, observe: @escaping @Sendable (String, InformerActivity) -> Void, logger: Logger) {
        self.resource = resource
        self.observe = observe
        self.logger = logger
    }

    func skip(_ object: UndecodableObject) {
        observe(resource.description, .skipped)
        guard logged.withLock({ $0.insert(object).inserted }) else { return }
        logger.error(
            "object cannot be read; passed over, the rest is served",
            metadata: ["resource": "\(resource)", "object": "\(object)", "reason": "\(object.reason)"])
    }
}

extension Duration {
    /// Whole seconds, at least one.
    var seconds: Int { max(1, Int(components.seconds)) }
}

/// The resourceVersion a watch has reached, advanced by its event handler
/// and read when the watch ends.
final class VersionCursor: Sendable {
    private let current: Mutex<String>

    init(_ version: String) { current = Mutex(version) }

    var value: String {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}
