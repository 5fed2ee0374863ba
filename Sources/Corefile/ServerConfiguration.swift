import DNSModel

/// One plugin of a server block, its options read.
public enum Plugin: Sendable, Equatable {
    case kubernetes(KubernetesPlugin)
    case k8sExternal(K8sExternalPlugin)
    case rewrite(RewriteRule)
    case template(TemplateRule)
    case autopath(AutopathPlugin)
    case forward(ForwardPlugin)
    case cache(CachePlugin)
    case hosts(HostsPlugin)
    case health(HealthPlugin)
    /// `/ready` on this address, 200 once every plugin that reports readiness is ready.
    case ready(address: String)
    /// `/metrics` on this address.
    case prometheus(address: String)
    case reload(ReloadPlugin)
    /// Addresses to listen on rather than every address.
    case bind([String])
    /// Its rules, in written order.
    case log([LogRule])
    case errors(ErrorsPlugin)
    case loop, loadbalance, any
}

extension Plugin {
    /// Its directive's name, as metrics and logs give it.
    public var name: String {
        switch self {
        case .kubernetes: "kubernetes"
        case .k8sExternal: "k8s_external"
        case .rewrite: "rewrite"
        case .template: "template"
        case .autopath: "autopath"
        case .forward: "forward"
        case .cache: "cache"
        case .hosts: "hosts"
        case .health: "health"
        case .ready: "ready"
        case .prometheus: "prometheus"
        case .reload: "reload"
        case .bind: "bind"
        case .errors: "errors"
        case .log: "log"
        case .loop: "loop"
        case .loadbalance: "loadbalance"
        case .any: "any"
        }
    }
}

/// A server block with its plugins read, in the order a query passes them.
public struct ServerConfiguration: Sendable {
    public var keys: [ServerKey]
    public var plugins: [Plugin]
    /// Where each plugin of `plugins` is written, in the same order.
    public var pluginLocations: [CorefileLocation]
    public var location: CorefileLocation

    /// Plugins a server block may hold more than once (CoreDNS chains
    /// several `forward`s in written order); CoreDNS takes the others once.
    static let repeatable: Set<String> = ["log", "forward", "rewrite", "template"]

    public init(_ block: ServerBlock) throws(CorefileError) {
        keys = block.keys
        location = block.location
        let zones = block.keys.map(\.zone)
        var seen: Set<String> = []
        plugins = []
        pluginLocations = []
        for directive in try block.pluginChain() {
            let read = PluginArguments(plugin: directive.name)
            guard let plugin = try Self.plugin(directive, zones: zones, read) else {
                throw read.error("not supported by this server", at: directive)
            }
            guard seen.insert(directive.name).inserted || Self.repeatable.contains(directive.name) else {
                throw read.error("this plugin can only be used once per Server Block", at: directive)
            }
            plugins.append(plugin)
            pluginLocations.append(directive.location)
        }
    }

    /// The plugin with its options read; nil when this server does not have it.
    private static func plugin(_ directive: Directive, zones: [DNSName], _ read: PluginArguments) throws(CorefileError) -> Plugin? {
        switch directive.name {
        case "kubernetes": return .kubernetes(try KubernetesPlugin(directive, blockZones: zones))
        case "k8s_external": return .k8sExternal(try K8sExternalPlugin(directive, blockZones: zones))
        case "rewrite": return .rewrite(try RewriteRule(directive))
        case "template": return .template(try TemplateRule(directive, blockZones: zones))
        case "autopath": return .autopath(try AutopathPlugin(directive, blockZones: zones))
        case "forward": return .forward(try ForwardPlugin(directive))
        case "cache": return .cache(try CachePlugin(directive, blockZones: zones))
        case "hosts": return .hosts(try HostsPlugin(directive, blockZones: zones))
        case "health": return .health(try HealthPlugin(directive))
        case "reload": return .reload(try ReloadPlugin(directive))
        case "ready", "prometheus":
            try read.count(directive, 0...1)
            try read.noBlock(directive)
            let address = directive.arguments.first ?? (directive.name == "ready" ? ":8181" : "localhost:9153")
            return directive.name == "ready" ? .ready(address: address) : .prometheus(address: address)
        case "bind":
            try read.count(directive, 1...Int.max)
            if directive.block != nil { throw read.error("'except' in bind is not supported by this server", at: directive) }
            return .bind(directive.arguments)
        case "loadbalance":
            try read.count(directive, 0...1)
            if let policy = directive.arguments.first, policy != "round_robin" {
                throw read.error("policy '\(policy)' is not supported by this server (round_robin is)", at: directive)
            }
            return .loadbalance
        case "log":
            return .log(try LogRule.rules(directive))
        case "errors":
            return .errors(try ErrorsPlugin(directive))
        case "loop", "any":
            try read.count(directive, 0...0)
            try read.noBlock(directive)
            return directive.name == "loop" ? .loop : .any
        default:
            return nil
        }
    }
}

extension Corefile {
    /// Every server block with its plugins read.
    public func configurations() throws(CorefileError) -> [ServerConfiguration] {
        var configurations: [ServerConfiguration] = []
        for block in serverBlocks { configurations.append(try ServerConfiguration(block)) }
        return configurations
    }
}
