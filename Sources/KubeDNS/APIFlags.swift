import ArgumentParser
import KubeAPI

/// How to reach the Kubernetes API, as kube2sky and kube-dns take it.
struct APIFlags: ParsableArguments {
    @Option(
        name: [.customLong("kube-master-url"), .customLong("kube_master_url")],
        help: "URL of the Kubernetes API server (plain, without credentials); overrides the kubeconfig's server.")
    var kubeMasterURL: String?

    @Option(
        name: [.customLong("kubecfg-file"), .customLong("kubecfg_file")],
        help: "A kubeconfig file: its current context's server, CA, token or client certificate.")
    var kubecfgFile: String?

    @Option(
        name: .customLong("watch-timeout"),
        help: "Each watch asks the API server to end it after between this and twice this; a watch silent that long is replaced.")
    var watchTimeout = GoDuration(.seconds(300), "5m")

    func validate() throws {
        try FlagRange.check("watch-timeout", watchTimeout, .seconds(1) ... .seconds(86400))
    }

    /// The API server to watch: the kubeconfig (its server replaced by
    /// --kube-master-url when both are given), --kube-master-url alone, or
    /// in-cluster when neither is given.
    func access() throws(AccessError) -> ClusterAccess {
        if let kubecfgFile { return try .kubeconfig(path: kubecfgFile, server: kubeMasterURL) }
        if let kubeMasterURL { return try .masterURL(kubeMasterURL) }
        return try .inCluster()
    }

    var informerSettings: InformerSettings {
        var settings = InformerSettings()
        settings.watchTimeout = watchTimeout.duration
        return settings
    }
}
