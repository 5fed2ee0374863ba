import Etcd
import ObjectSources
import RecordModel

/// The cluster's objects and the skydns keys they make, by directory, with
/// the directories changed since the last write.
struct ClusterKeys {
    let domain: DNSName
    private(set) var objects = ClusterObjects()
    /// The pods at each pod-address directory (host-network pods share one).
    private var podsAt: [String: Set<ObjectKey>] = [:]
    /// The EndpointSlices of each Service.
    private var slicesOf: [ObjectKey: Set<ObjectKey>] = [:]
    var dirty: Set<String> = []

    init(domain: DNSName) { self.domain = domain }

    mutating func apply(_ update: ObjectUpdate) {
        for change in objects.changes(for: update) {
            dirty.formUnion(directories(touchedBy: change))
            switch change {
            case .pod(let key, let new):
                for directory in podDirectories(objects.pods[key]) { podsAt[directory]?.remove(key) }
                for directory in podDirectories(new) { podsAt[directory, default: []].insert(key) }
            case .endpointSlice(let key, let new):
                if let service = objects.endpointSlices[key]?.serviceKey { slicesOf[service]?.remove(key) }
                if let service = new?.serviceKey { slicesOf[service, default: []].insert(key) }
            default:
                break
            }
            objects.apply(change)
            dirty.formUnion(directories(touchedBy: change))
        }
    }

    /// The keys a directory should hold now.
    func keys(of directory: String) -> [String: String] {
        if let service = serviceAt(directory) { return keys(of: service) }
        guard let pod = podsAt[directory]?.first.flatMap({ objects.pods[$0] }) else { return [:] }
        for ip in pod.addresses
        where SkyDNSLayout.directory(ofPodAddress: ip, namespace: pod.metadata.namespace, domain: domain) == directory {
            return SkyDNSLayout.keys(ofPodAddress: ip, namespace: pod.metadata.namespace, domain: domain)
        }
        return [:]
    }

    /// Every directory's keys (directories without keys left out).
    func allKeys() -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        for (key, service) in objects.services {
            guard let directory = SkyDNSLayout.directory(ofService: key, domain: domain) else { continue }
            let keys = keys(of: service)
            if !keys.isEmpty { result[directory] = keys }
        }
        for (directory, pods) in podsAt where !pods.isEmpty {
            let keys = self.keys(of: directory)
            if !keys.isEmpty { result[directory] = keys }
        }
        return result
    }

    private func keys(of service: Service) -> [String: String] {
        let key = service.metadata.key
        let slices = (slicesOf[key] ?? []).compactMap { objects.endpointSlices[$0] }
        return SkyDNSLayout.keys(ofService: service, slices: slices, endpoints: objects.endpoints[key], domain: domain)
    }

    private func serviceAt(_ directory: String) -> Service? {
        guard let name = SkyDNSLayout.name(ofDirectory: directory), name.labelCount == domain.labelCount + 3,
            name.label(2) == "svc"
        else { return nil }
        return objects.services[ObjectKey(namespace: name.label(1), name: name.label(0))]
    }

    /// The directories whose keys a change may alter, as the objects are now.
    private func directories(touchedBy change: ObjectChange) -> [String] {
        switch change {
        case .service(let key, _), .endpoints(let key, _):
            return SkyDNSLayout.directory(ofService: key, domain: domain).map { [$0] } ?? []
        case .endpointSlice(let key, let new):
            let service = (new ?? objects.endpointSlices[key])?.serviceKey
            return service.flatMap { SkyDNSLayout.directory(ofService: $0, domain: domain) }.map { [$0] } ?? []
        case .pod(let key, let new):
            return podDirectories(objects.pods[key]) + podDirectories(new)
        case .namespace, .serviceImport:
            return []
        }
    }

    private func podDirectories(_ pod: Pod?) -> [String] {
        guard let pod else { return [] }
        return pod.addresses.compactMap { SkyDNSLayout.directory(ofPodAddress: $0, namespace: pod.metadata.namespace, domain: domain) }
    }
}
