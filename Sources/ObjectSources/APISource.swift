import KubeAPI
import Logging
import RecordModel

/// The cluster as the API server tells it: one informer per resource DNS
/// reads, all feeding one update queue.
public struct APISource: Sendable {
    public let client: APIClient
    /// Pods are watched only when pod names are verified against them.
    public let watchPods: Bool
    public let settings: InformerSettings
    let logger: Logger

    public init(client: APIClient, watchPods: Bool, settings: InformerSettings, logger: Logger) {
        self.client = client
        self.watchPods = watchPods
        self.settings = settings
        self.logger = logger
    }

    /// Runs the informers until cancelled. EndpointSlices are read when the
    /// server serves discovery.k8s.io/v1 (Kubernetes 1.21 and later), else v1 Endpoints.
    public func run(into queue: UpdateQueue) async {
        guard let slices = await servesEndpointSlices() else { return }
        logger.info(
            "watching the API",
            metadata: [
                "server": "\(client.access.server)", "endpoints from": "\(slices ? "EndpointSlices" : "Endpoints")",
            ])
        await withDiscardingTaskGroup { group in
            group.addTask { await informer(Service.self, .services).run { queue.push(.services($0)) } }
            group.addTask { await informer(Namespace.self, .namespaces).run { queue.push(.namespaces($0)) } }
            if slices {
                group.addTask { await informer(EndpointSlice.self, .endpointSlices).run { queue.push(.endpointSlices($0)) } }
            } else {
                group.addTask { await informer(Endpoints.self, .endpoints).run { queue.push(.endpoints($0)) } }
            }
            if watchPods {
                group.addTask { await informer(Pod.self, .pods).run { queue.push(.pods($0)) } }
            }
        }
    }

    /// The resources that must have been listed before the cluster is known.
    public var resources: Set<ClusterResource> {
        watchPods ? [.services, .endpoints, .namespaces, .pods] : [.services, .endpoints, .namespaces]
    }

    private func informer<Object>(_ type: Object.Type, _ resource: ResourceKind) -> Informer<Object> {
        Informer(client: client, resource: resource, settings: settings, logger: logger)
    }

    /// Asks until the server answers; nil when cancelled first.
    private func servesEndpointSlices() async -> Bool? {
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                return try await client.serves(groupVersion: "discovery.k8s.io/v1")
            } catch {
                let wait = backoff.next()
                logger.error(
                    "API discovery failed; retrying",
                    metadata: [
                        "server": "\(client.access.server)", "error": "\(error)", "retry in": "\(wait)",
                    ])
                try? await Task.sleep(for: wait)
            }
        }
        return nil
    }
}
