import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// What a probe answers: 200 with the body, or 503 with the reason.
public struct ProbeAnswer: Sendable {
    public var healthy: Bool
    public var body: String

    public static func ok(_ body: String = "ok") -> ProbeAnswer { ProbeAnswer(healthy: true, body: body) }
    public static func failing(_ reason: String) -> ProbeAnswer { ProbeAnswer(healthy: false, body: reason) }
}

/// The HTTP endpoint the kubelet probes: each path answers from its check,
/// 200 or 503. Served on its own event loop, never shelling out, so it
/// answers whatever the DNS workers are doing, and whoever holds
/// connections open (`HTTPConnectionLimits`).
public final class ProbeServer: Sendable {
    public typealias Check = @Sendable () -> ProbeAnswer
    private let channel: any Channel

    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Binds at once: the probe is up before anything it reports on has started.
    public init(host: String, port: Int, routes: [String: Check], limits: HTTPConnectionLimits = HTTPConnectionLimits()) async throws {
        let connections = HTTPConnectionTable(limit: limits.maxConnections)
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    connections.admit(channel)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(HTTPDeadlineHandler(limits: limits, table: connections))
                        try channel.pipeline.syncOperations.addHandler(ProbeHandler(routes: routes))
                    }
                }
                .bind(host: host, port: port).get()
        } catch let error as IOError {
            throw ProbeServerError(host: host, port: port, reason: String(cString: strerror(error.errnoCode)))
        } catch {
            throw ProbeServerError(host: host, port: port, reason: "\(error)")
        }
    }

    public func close() async {
        try? await channel.close()
    }
}

/// An HTTP port that cannot be served, said with the address.
public struct ProbeServerError: Error, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let reason: String

    public var description: String { "HTTP port \(host):\(port): \(reason)" }
}

private final class ProbeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let routes: [String: ProbeServer.Check]
    private var head: HTTPRequestHead?

    init(routes: [String: ProbeServer.Check]) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let (status, body) = answer(head)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            if head.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    private func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String) {
        guard head.method == .GET || head.method == .HEAD else { return (.methodNotAllowed, "GET only\n") }
        let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
        guard let check = routes[path] else { return (.notFound, "not found\n") }
        let answer = check()
        let body = answer.body.hasSuffix("\n") ? answer.body : answer.body + "\n"
        return (answer.healthy ? .ok : .serviceUnavailable, body)
    }
}
