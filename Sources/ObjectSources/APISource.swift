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
    public let selection: Selection
    let logger: Logger

    /// Which objects are listed and watched (CoreDNS's `labels`,
    /// `namespace_labels` and `noendpoints`): the API server does the
    /// picking, as for CoreDNS, so unpicked objects cost no traffic.
    public struct Selection: Sendable, Equatable {
        /// Picks Services, endpoints and pods.
        public var labels: String?
        /// Picks Namespaces.
        public var namespaceLabels: String?
        public var endpoints = true
        /// ServiceImports are watched (multicluster).
        public var serviceImports = false

        public init(labels: String? = nil, namespaceLabels: String? = nil, endpoints: Bool = true, serviceImports: Bool = false) {
            (self.labels, self.namespaceLabels, self.endpoints, self.serviceImports) = (labels, namespaceLabels, endpoints, serviceImports)
        }
    }

    public init(client: APIClient, watchPods: Bool, selection: Selection = Selection(), settings: InformerSettings, logger: Logger) {
        self.client = client
        self.watchPods = watchPods
        self.selection = selection
        self.settings = settings
        self.logger = logger
    }

    /// Runs the informers until cancelled. EndpointSlices are read when the
    /// server serves discovery.k8s.io/v1 (Kubernetes 1.21 and later), else v1 Endpoints.
    public func run(into queue: UpdateQueue) async {
        guard let slices = selection.endpoints ? await servesEndpointSlices() : false else { return }
        logger.info(
            "watching the API",
            metadata: [
                "server": "\(client.access.server)",
                "endpoints from": "\(selection.endpoints ? slices ? "EndpointSlices" : "Endpoints" : "nowhere (noendpoints)")",
            ])
        await withDiscardingTaskGroup { group in
            group.addTask { await informer(Service.self, .services, selector: selection.labels).run { queue.push(.services($0)) } }
            group.addTask {
                await informer(Namespace.self, .namespaces, selector: selection.namespaceLabels).run { queue.push(.namespaces($0)) }
            }
            if !selection.endpoints {
                queue.push(.endpoints(.replaced([])))
            } else if slices {
                group.addTask {
                    await informer(EndpointSlice.self, .endpointSlices, selector: selection.labels).run { queue.push(.endpointSlices($0)) }
                }
            } else {
                group.addTask { await informer(Endpoints.self, .endpoints, selector: selection.labels).run { queue.push(.endpoints($0)) } }
            }
            if watchPods {
                group.addTask { await informer(Pod.self, .pods, selector: selection.labels).run { queue.push(.pods($0)) } }
            }
            if selection.serviceImports {
                group.addTask { await watchServiceImports(into: queue) }
            }
        }
    }

    /// ServiceImports, when the API serves their group (the Multi-Cluster
    /// Services CRDs are installed); else none, and the cluster is known without them.
    private func watchServiceImports(into queue: UpdateQueue) async {
        guard let served = await serves("multicluster.x-k8s.io/v1alpha1") else { return }
        guard served else {
            logger.notice("multicluster: the API serves no ServiceImports (multicluster.x-k8s.io/v1alpha1); the clusterset zone has none")
            queue.push(.serviceImports(.replaced([])))
            return
        }
        await informer(ServiceImport.self, .serviceImports, selector: nil).run { queue.push(.serviceImports($0)) }
    }

    /// The resources that must have been listed before the cluster is known.
    public var resources: Set<ClusterResource> {
        var resources: Set<ClusterResource> = [.services, .endpoints, .namespaces]
        if watchPods { resources.insert(.pods) }
        if selection.serviceImports { resources.insert(.serviceImports) }
        return resources
    }

    /// An informer of the objects `selector` picks (nil: all).
    private func informer<Object>(_ type: Object.Type, _ resource: ResourceKind, selector: String?) -> Informer<Object> {
        Informer(client: client, resource: resource.selecting(selector), settings: settings, logger: logger)
    }

    private func servesEndpointSlices() async -> Bool? { await serves("discovery.k8s.io/v1") }

    /// Whether the API serves a group version, asked until the server
    /// answers; nil when cancelled first.
    private func serves(_ groupVersion: String) async -> Bool? {
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                return try await client.serves(groupVersion: groupVersion)
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
