import CorefilePlan
import DataPlane
import Foundation

extension ForwardingPlan {
    /// The data plane's forwarding for a Corefile's routes: resolv.conf
    /// files read now (CoreDNS reads them when it loads the Corefile), and
    /// upstreams that are this server itself refused, saying why.
    public static func make(
        routes plans: [RoutePlan], blocks blockPlans: [CorefilePlan.BlockPlan] = [], timeout: Duration, ourselves: SelfAddress,
        readFile: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) }
    ) -> (forwarding: Forwarding?, ignored: [String]) {
        var ignored: [String] = []
        var routes: [Forwarding.Route] = []
        for plan in plans {
            var upstreams: [Forwarding.Upstream] = []
            for target in plan.targets {
                switch target {
                case .address(let address, let port):
                    upstreams.append(Forwarding.Upstream(host: address.description, port: UInt16(port)))
                case .tls(let address, let port):
                    upstreams.append(Forwarding.Upstream(host: address.description, port: UInt16(port), tls: true))
                case .resolvConf(let path):
                    guard let text = readFile(path) else {
                        ignored.append("\(path) for \(plan.domain) cannot be read")
                        continue
                    }
                    upstreams += ResolvConf.nameservers(in: text)
                }
            }
            if upstreams.count > Forwarding.maxUpstreamsPerRoute {
                ignored.append("\(plan.domain) has \(upstreams.count) upstreams; the first \(Forwarding.maxUpstreamsPerRoute) are used")
                upstreams.removeLast(upstreams.count - Forwarding.maxUpstreamsPerRoute)
            }
            var route = Forwarding.Route(
                plan.domain,
                upstreams.filter { upstream in
                    guard ourselves.isSelf(upstream) else { return true }
                    ignored.append("upstream \(upstream) for \(plan.domain) is this server itself (a forwarding loop); not used")
                    return false
                })
            route.order = plan.order
            route.forceTCP = plan.forceTCP
            route.cached = plan.cached
            route.maxFails = plan.maxFails
            route.cacheMaxTTL = plan.cacheMaxTTL
            route.cacheMaxNegativeTTL = plan.cacheMaxNegativeTTL
            route.tls = plan.tls
            routes.append(route)
        }
        let blocks = blockPlans.map { plan in
            var block = plan.block
            // autopath's search domains: those of the file, read now as CoreDNS reads it at load.
            if let path = plan.autopathSearchFile {
                if let text = readFile(path) {
                    block.autopath?.search = Array(ResolvConf.searchDomains(in: text).prefix(Forwarding.maxAutopathSearch))
                } else if block.autopath != nil, block.autopath?.pods == nil {
                    ignored.append("autopath: \(path) cannot be read; no search path")
                }
            }
            return block
        }
        guard !routes.isEmpty || !blocks.isEmpty else { return (nil, ignored) }
        return (Forwarding(routes: routes, blocks: blocks, timeout: timeout, attemptTimeout: attemptTimeout(timeout)), ignored)
    }

    /// Each upstream has a turn of 2/5 of the time: the first twice over,
    /// and another once, before the client's own retry.
    static func attemptTimeout(_ timeout: Duration) -> Duration { max(timeout * 2 / 5, .milliseconds(100)) }
}

extension Forwarding {
    /// The routes in one line, for the log.
    public var summary: String {
        routes.map { route in
            "\(route.domain) → " + (route.upstreams.isEmpty ? "SERVFAIL" : route.upstreams.map(\.description).joined(separator: ","))
        }.joined(separator: "; ")
    }
}
