import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Bounds on an HTTP endpoint's connections, so that whoever holds
/// connections open, idle or sending a request slowly, cannot take the
/// kubelet's probes or Prometheus's scrapes away.
public struct HTTPConnectionLimits: Sendable {
    /// Open connections at most; a new one past it closes the connection
    /// idle the longest (as Knot DNS and Unbound do with TCP under pressure).
    public var maxConnections: Int
    /// From a connection's opening to its first whole request.
    public var requestDeadline: TimeAmount
    /// From the end of an answer to the next whole request.
    public var idleTimeout: TimeAmount

    public init(maxConnections: Int = 256, requestDeadline: TimeAmount = .seconds(5), idleTimeout: TimeAmount = .seconds(30)) {
        self.maxConnections = maxConnections
        self.requestDeadline = requestDeadline
        self.idleTimeout = idleTimeout
    }
}

/// The open connections of one endpoint, each with when it was last busy.
final class HTTPConnectionTable: Sendable {
    private struct Entry {
        let channel: any Channel
        var lastActive: NIODeadline
    }

    private let limit: Int
    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

    init(limit: Int) { self.limit = max(1, limit) }

    /// Takes `channel` in, closing the connection idle the longest when full.
    func admit(_ channel: any Channel) {
        let evicted: (any Channel)? = entries.withLockedValue { entries in
            var oldest: (key: ObjectIdentifier, entry: Entry)?
            if entries.count >= limit {
                for (key, entry) in entries where oldest == nil || entry.lastActive < oldest!.entry.lastActive {
                    oldest = (key, entry)
                }
                if let oldest { entries.removeValue(forKey: oldest.key) }
            }
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, lastActive: .now())
            return oldest?.entry.channel
        }
        evicted?.close(promise: nil)
        channel.closeFuture.whenComplete { _ in self.entries.withLockedValue { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) } }
    }

    func touch(_ channel: any Channel) {
        entries.withLockedValue { $0[ObjectIdentifier(channel)]?.lastActive = .now() }
    }
}

/// Closes a connection whose first request is not whole within the
/// deadline of its opening, or whose next one is not whole within the
/// idle timeout of the last answer (a request surfaces only once whole).
final class HTTPDeadlineHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let limits: HTTPConnectionLimits
    private let table: HTTPConnectionTable
    private var timer: Scheduled<Void>?

    init(limits: HTTPConnectionLimits, table: HTTPConnectionTable) {
        self.limits = limits
        self.table = table
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context, limits.requestDeadline)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            // Answered at once; nothing is due from the client meanwhile.
            timer?.cancel()
            timer = nil
            table.touch(context.channel)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            table.touch(context.channel)
            arm(context, limits.idleTimeout)
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ after: TimeAmount) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: after) { channel.close(promise: nil) }
    }
}
