import ArgumentParser

/// `kube-dns`: cluster DNS in one process by default, and the parts of
/// the original kube-dns pod as subcommands.
struct KubeDNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-dns",
        abstract: "Kubernetes cluster DNS: a Swift control plane over a C data plane.",
        version: BuildInfo.version,
        subcommands: [
            ServeCommand.self, RecordsCommand.self, SkyDNSCommand.self, Kube2SkyCommand.self, ExecHealthzCommand.self,
            NodeCacheCommand.self,
        ],
        defaultSubcommand: ServeCommand.self)
}

enum BuildInfo {
    static let version = "0.1.0"
}
