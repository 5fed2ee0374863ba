import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP endpoint the kubelet probes: `GET /readiness` is 200 once
/// ready and 503 with the reason otherwise; `GET /healthz` is 200 while
/// `liveness` finds nothing wrong (every DNS worker loop turns), 503 with
/// its reason when it does. Served on its own event loop, never shelling
/// out, so it answers whatever the DNS workers are doing.
public final class ProbeServer: Sendable {
    private let channel: any Channel

    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Binds at once: the probe is up before anything it reports on has started.
    public init(
        host: String, port: Int, readiness: Readiness, liveness: @escaping @Sendable () -> String?
    ) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ProbeHandler(readiness: readiness, liveness: liveness))
                }
            }
            .bind(host: host, port: port).get()
    }

    public func close() async {
        try? await channel.close()
    }
}

private final class ProbeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let readiness: Readiness
    let liveness: @Sendable () -> String?
    private var head: HTTPRequestHead?

    init(readiness: Readiness, liveness: @escaping @Sendable () -> String?) {
        self.readiness = readiness
        self.liveness = liveness
    }

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
        switch head.uri.split(separator: "?").first.map(String.init) ?? head.uri {
        case "/readiness":
            if let reason = readiness.notReadyReason { return (.serviceUnavailable, reason + "\n") }
            return (.ok, "ok\n")
        case "/healthz":
            if let reason = liveness() { return (.serviceUnavailable, reason + "\n") }
            return (.ok, "ok\n")
        default:
            return (.notFound, "not found\n")
        }
    }
}
