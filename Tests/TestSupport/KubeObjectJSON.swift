import Foundation

/// Kubernetes objects as the API serves them, in JSON, for the simulator.
public enum KubeObjectJSON {
    public struct Port: Sendable {
        public var name: String?
        public var port: Int
        public var proto = "TCP"

        public init(_ name: String?, _ port: Int, _ proto: String = "TCP") {
            self.name = name
            self.port = port
            self.proto = proto
        }

        var json: [String: Any] {
            var fields: [String: Any] = ["port": port, "protocol": proto]
            if let name { fields["name"] = name }
            return fields
        }
    }

    /// A ClusterIP service (one IP, or two for dual-stack); `clusterIPs: ["None"]` is headless.
    /// With `loadBalancer` (each an IP or a host name), a LoadBalancer service with that status.
    public static func service(
        _ name: String, _ namespace: String, clusterIPs: [String], ports: [Port] = [], publishNotReady: Bool = false,
        labels: [String: String] = [:], externalIPs: [String] = [], loadBalancer: [String] = []
    ) -> String {
        var spec: [String: Any] = [
            "type": loadBalancer.isEmpty ? "ClusterIP" : "LoadBalancer", "clusterIP": clusterIPs.first ?? "", "clusterIPs": clusterIPs,
            "ports": ports.map(\.json),
        ]
        if publishNotReady { spec["publishNotReadyAddresses"] = true }
        if !externalIPs.isEmpty { spec["externalIPs"] = externalIPs }
        var object: [String: Any] = [
            "kind": "Service", "apiVersion": "v1", "metadata": meta(name, namespace, labels: labels), "spec": spec,
        ]
        if !loadBalancer.isEmpty {
            let ingress = loadBalancer.map { $0.contains(where: \.isLetter) && !$0.contains(":") ? ["hostname": $0] : ["ip": $0] }
            object["status"] = ["loadBalancer": ["ingress": ingress]]
        }
        return encode(object)
    }

    public static func externalName(_ name: String, _ namespace: String, target: String) -> String {
        encode([
            "kind": "Service", "apiVersion": "v1", "metadata": meta(name, namespace),
            "spec": ["type": "ExternalName", "externalName": target],
        ])
    }

    public struct Endpoint: Sendable {
        public var ip: String
        public var ready: Bool
        public var hostname: String?
        /// The pod its `targetRef` names.
        public var pod: String?

        public init(_ ip: String, ready: Bool = true, hostname: String? = nil, pod: String? = nil) {
            self.ip = ip
            self.ready = ready
            self.hostname = hostname
            self.pod = pod
        }

        /// The endpoint in an EndpointSlice of `namespace`.
        func json(_ namespace: String) -> [String: Any] {
            var fields: [String: Any] = ["addresses": [ip], "conditions": ["ready": ready]]
            if let hostname { fields["hostname"] = hostname }
            if let pod { fields["targetRef"] = ["kind": "Pod", "name": pod, "namespace": namespace] }
            return fields
        }
    }

    /// An EndpointSlice of `service`, named `<service>-<suffix>`, with the
    /// service's `labels` (as the controller copies them); with
    /// `changedAt`, the controller's last-change-trigger-time annotation.
    public static func endpointSlice(
        _ service: String, _ namespace: String, suffix: String = "a", addressType: String = "IPv4",
        endpoints: [Endpoint], ports: [Port] = [], changedAt: Date? = nil, labels: [String: String] = [:]
    ) -> String {
        var metadata = meta("\(service)-\(suffix)", namespace)
        metadata["labels"] = labels.merging(["kubernetes.io/service-name": service]) { $1 }
        if let changedAt {
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            metadata["annotations"] = ["endpoints.kubernetes.io/last-change-trigger-time": format.string(from: changedAt)]
        }
        return encode([
            "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": metadata,
            "addressType": addressType,
            "endpoints": endpoints.map { $0.json(namespace) },
            "ports": ports.map(\.json),
        ])
    }

    /// v1 Endpoints of `service`, for clusters without EndpointSlices.
    public static func endpoints(_ service: String, _ namespace: String, ready: [String], notReady: [String] = [], ports: [Port] = [])
        -> String
    {
        encode([
            "kind": "Endpoints", "apiVersion": "v1", "metadata": meta(service, namespace),
            "subsets": [
                [
                    "addresses": ready.map { ["ip": $0] }, "notReadyAddresses": notReady.map { ["ip": $0] },
                    "ports": ports.map(\.json),
                ]
            ],
        ])
    }

    /// A multicluster.x-k8s.io ServiceImport: ClusterSetIP with `ips`, or headless without.
    public static func serviceImport(_ name: String, _ namespace: String, ips: [String], ports: [Port] = []) -> String {
        encode([
            "kind": "ServiceImport", "apiVersion": "multicluster.x-k8s.io/v1alpha1", "metadata": meta(name, namespace),
            "spec": ["type": ips.isEmpty ? "Headless" : "ClusterSetIP", "ips": ips, "ports": ports.map(\.json)],
        ])
    }

    /// An EndpointSlice carrying `imported`'s endpoints from `cluster` (the Multi-Cluster Services labels).
    public static func importedSlice(
        _ imported: String, _ namespace: String, cluster: String, endpoints: [Endpoint], ports: [Port] = []
    ) -> String {
        var metadata = meta("\(imported)-\(cluster)", namespace)
        metadata["labels"] = ["multicluster.kubernetes.io/service-name": imported, "multicluster.kubernetes.io/source-cluster": cluster]
        return encode([
            "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": metadata, "addressType": "IPv4",
            "endpoints": endpoints.map { $0.json(namespace) },
            "ports": ports.map(\.json),
        ])
    }

    public static func namespace(_ name: String, labels: [String: String] = [:]) -> String {
        encode(["kind": "Namespace", "apiVersion": "v1", "metadata": ["name": name, "labels": labels]])
    }

    public static func pod(_ name: String, _ namespace: String, ip: String) -> String {
        encode([
            "kind": "Pod", "apiVersion": "v1", "metadata": meta(name, namespace),
            "status": ["podIP": ip, "podIPs": [["ip": ip]]],
        ])
    }

    private static func meta(_ name: String, _ namespace: String, labels: [String: String] = [:]) -> [String: Any] {
        ["name": name, "namespace": namespace, "labels": labels]
    }

    private static func encode(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
