import Foundation

extension ClusterAccess {
    /// The service account's directory in every pod.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// In a pod: the API server from `KUBERNETES_SERVICE_HOST`/`_PORT`,
    /// the service account's `ca.crt`, and its token, re-read on every
    /// request because the kubelet rotates it (client-go's rest.InClusterConfig).
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = serviceAccountDirectory
    ) throws(AccessError) -> ClusterAccess {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw AccessError(
                "not in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set): give --kube-master-url, --kubecfg-file or --kube-objects"
            )
        }
        // An IPv6 address goes in brackets in a URL (RFC 3986 §3.2.2).
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var access = ClusterAccess(server: try serverURL("https://\(authority)", source: "KUBERNETES_SERVICE_HOST"))
        let token = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: token) else {
            throw AccessError("in-cluster: the service account token \(token) cannot be read")
        }
        access.credentials = .tokenFile(token)
        let ca = directory + "/ca.crt"
        guard let pem = FileManager.default.contents(atPath: ca) else {
            throw AccessError("in-cluster: the service account CA \(ca) cannot be read")
        }
        access.certificateAuthority = pem
        return access
    }
}
