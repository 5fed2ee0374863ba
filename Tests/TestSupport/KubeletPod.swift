import Foundation

/// What a cluster adds to a workload's pod template and `podman kube play`
/// does not: the Pod made from a ReplicationController's or Deployment's
/// template (as their controllers make it), the image under test in every
/// container (as an operator sets it), and the service account's access the
/// kubelet mounts and announces (`ca.crt`, `token` and `namespace` at
/// /var/run/secrets/kubernetes.io/serviceaccount, `KUBERNETES_SERVICE_HOST`
/// and `_PORT` in every container's environment).
public enum KubeletPod {
    public static let serviceAccountMount = "/var/run/secrets/kubernetes.io/serviceaccount"

    public static func pod(
        from workload: [String: Any], image: String, serviceAccount: ServiceAccountFiles, apiServerPort: Int
    ) throws -> [String: Any] {
        let metadata = workload["metadata"] as? [String: Any] ?? [:]
        guard let template = (workload["spec"] as? [String: Any])?["template"] as? [String: Any],
            var spec = template["spec"] as? [String: Any], let containers = spec["containers"] as? [[String: Any]]
        else { throw NetworkSandbox.SandboxError(description: "\(metadata["name"] ?? "?"): no pod template with containers") }
        let environment: [[String: Any]] = [
            ["name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"],
            ["name": "KUBERNETES_SERVICE_PORT", "value": "\(apiServerPort)"],
        ]
        let mount: [String: Any] = ["name": "kube-api-access", "mountPath": serviceAccountMount, "readOnly": true]
        spec["containers"] = containers.map { container in
            var container = container
            container["image"] = image
            container["env"] = (container["env"] as? [[String: Any]] ?? []) + environment
            container["volumeMounts"] = (container["volumeMounts"] as? [[String: Any]] ?? []) + [mount]
            return container
        }
        let volume: [String: Any] = ["name": "kube-api-access", "hostPath": ["path": serviceAccount.directory, "type": "Directory"]]
        spec["volumes"] = (spec["volumes"] as? [[String: Any]] ?? []) + [volume]
        var podMetadata = template["metadata"] as? [String: Any] ?? [:]
        podMetadata["name"] = metadata["name"]
        podMetadata["namespace"] = metadata["namespace"]
        return ["apiVersion": "v1", "kind": "Pod", "metadata": podMetadata, "spec": spec]
    }
}

/// A service account's files as the kubelet projects them: the API
/// server's CA, a token, the namespace; readable by any user, since the
/// pods run as 65532.
public struct ServiceAccountFiles: Sendable {
    public let directory: String
    public let token: String
    public var tokenPath: String { directory + "/token" }

    public init(certificateAuthority: String, namespace: String = "kube-system") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("serviceaccount-\(UUID())").path
        token = "token-\(UUID())"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        for (name, text) in ["ca.crt": certificateAuthority, "token": token, "namespace": namespace] {
            let path = "\(directory)/\(name)"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        }
    }

    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
