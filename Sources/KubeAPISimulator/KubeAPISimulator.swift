import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A Kubernetes API server in miniature for tests and benchmarks: lists
/// with resourceVersion and paging, chunked watch streams with ADDED,
/// MODIFIED, DELETED, BOOKMARK and ERROR events, 410 Gone for expired
/// versions, bearer-token and TLS client-certificate checks, and scripted
/// faults. It listens on 127.0.0.1 only.
public final class KubeAPISimulator: Sendable {
    public struct Configuration: Sendable {
        /// A request without this bearer token is 401.
        public var bearerToken: String?
        /// Serve HTTPS with this PEM certificate chain and key.
        public var tls: (certificateChain: String, privateKey: String)?
        /// Require a client certificate signed by this PEM CA.
        public var clientCA: String?
        /// How often an open watch that asked for bookmarks gets one.
        public var bookmarkInterval: Duration = .seconds(1)
        /// Whether multicluster.x-k8s.io (ServiceImports) is served, as when
        /// the Multi-Cluster Services CRDs are installed.
        public var servesServiceImports = true

        public init() {}
    }

    let configuration: Configuration
    let state = Mutex(SimulatorState())
    private let listener = Mutex<(any Channel)?>(nil)
    private let sslContext: NIOSSLContext?

    public init(_ configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        if let tls = configuration.tls {
            var server = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(tls.certificateChain.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(tls.privateKey.utf8), format: .pem)))
            if let ca = configuration.clientCA {
                server.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.utf8)))
                server.certificateVerification = .noHostnameVerification
            }
            sslContext = try NIOSSLContext(configuration: server)
        } else {
            sslContext = nil
        }
    }

    // MARK: Serving

    /// Starts listening on 127.0.0.1 (`port` 0: any free port); returns the port.
    @discardableResult
    public func start(port: Int = 0) async throws -> Int {
        let sslContext = self.sslContext
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(SimulatorHTTPHandler(simulator: self))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        listener.withLock { $0 = channel }
        return channel.localAddress!.port!
    }

    /// Stops listening and closes every connection; the objects stay, so
    /// `start(port:)` on the same port brings the same cluster back.
    public func stop() async {
        let channel = listener.withLock { value -> (any Channel)? in
            defer { value = nil }
            return value
        }
        try? await channel?.close()
        for watch in state.withLock({ Array($0.watches.values) }) { watch.channel.close(promise: nil) }
        for connection in connections.withLock({ Array($0.values) }) { connection.close(promise: nil) }
    }

    /// Open connections, closed by `stop()`.
    let connections = Mutex<[ObjectIdentifier: any Channel]>([:])

    // MARK: Changing the cluster

    /// Creates or replaces an object, given as JSON with `kind` and
    /// `metadata.name` (and `metadata.namespace`); returns its resourceVersion.
    @discardableResult
    public func apply(_ json: String) throws -> Int {
        let object = try JSONValue(json: json)
        guard let kind = object["kind"]?.stringValue, let resource = SimulatedResource.of(kind: kind) else {
            throw SimulatorError("object has no kind the simulator serves")
        }
        guard object["metadata"]?["name"]?.stringValue?.isEmpty == false else { throw SimulatorError("object has no metadata.name") }
        return state.withLock { state in
            let change = state.commit(resource, object)
            deliver(change, &state)
            return change.revision
        }
    }

    /// Creates or replaces many objects in one go (one lock, one revision each).
    public func apply(objects: [JSONValue]) {
        state.withLock { state in
            for object in objects {
                guard let kind = object["kind"]?.stringValue, let resource = SimulatedResource.of(kind: kind) else { continue }
                deliver(state.commit(resource, object), &state)
            }
        }
    }

    /// Deletes an object; false when there was none.
    @discardableResult
    public func delete(_ resource: SimulatedResource, namespace: String = "", name: String) -> Bool {
        state.withLock { state in
            guard let change = state.delete(resource, namespace: namespace, name: name) else { return false }
            deliver(change, &state)
            return true
        }
    }

    public var resourceVersion: Int { state.withLock { $0.revision } }

    /// Watches open now, each streaming its events.
    public var openWatchCount: Int { state.withLock { $0.watches.count } }

    /// The requests seen so far.
    public var requests: [RecordedRequest] { state.withLock { $0.requests } }

    func deliver(_ change: SimulatorState.Change, _ state: inout SimulatorState) {
        for watch in state.watches.values where watch.resource == change.resource && !watch.stalled {
            guard let (type, object) = change.seen(through: watch.selector) else { continue }
            watch.channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(Self.eventLine(type: type, object: object))), promise: nil)
        }
    }

    static func eventLine(type: String, object: JSONValue) -> ByteBuffer {
        var buffer = ByteBuffer(bytes: JSONValue.object(["type": .string(type), "object": object]).data)
        buffer.writeString("\n")
        return buffer
    }

    // MARK: Faults

    /// Closes every open watch stream, as an API server restart or a load balancer does.
    public func dropWatches() {
        let channels = state.withLock { state -> [any Channel] in
            defer { state.watches.removeAll() }
            return state.watches.values.map(\.channel)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    /// Answers every request with `status` (500, 429, ...) for `duration`,
    /// each answer `delay` after its request (an API server failing
    /// slowly); a 429 says `Retry-After: retryAfter`.
    public func fail(status: Int, for duration: Duration, delay: Duration = .zero, retryAfter: Int = 1) {
        state.withLock { $0.faults.failure = (status, .now + duration, delay, retryAfter) }
    }

    /// Open watch streams stay open and send nothing more, as a dead
    /// connection behind a proxy does; new watches work.
    public func stallWatches() {
        state.withLock { state in
            for key in state.watches.keys { state.watches[key]!.stalled = true }
        }
    }

    /// Lists take this long to answer; with `afterFirstPage`, only the
    /// pages after the first (the requests with a continue token).
    public func delayLists(by delay: Duration, afterFirstPage: Bool = false) {
        state.withLock { $0.faults.listDelay = (delay, afterFirstPage) }
    }

    /// Forgets the change history: watches from an older resourceVersion
    /// get 410 Gone. With `endingWatches`, open watches receive an ERROR
    /// event with a 410 Status and end, as the watch cache does.
    public func compact(endingWatches: Bool = false) {
        let watches = state.withLock { state -> [SimulatorState.Watch] in
            state.compact()
            guard endingWatches else { return [] }
            defer { state.watches.removeAll() }
            return Array(state.watches.values)
        }
        for watch in watches {
            watch.channel.write(HTTPServerResponsePart.body(.byteBuffer(Self.goneEvent())), promise: nil)
            watch.channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        }
    }

    /// Whether an expired watch is a 410 status (else an ERROR event in a 200 stream).
    public func reportGoneAsHTTPStatus(_ value: Bool) {
        state.withLock { $0.faults.goneAsHTTPStatus = value }
    }

    /// Whether `discovery.k8s.io/v1` is served (a cluster older than 1.21 has only v1 Endpoints).
    public func serveEndpointSlices(_ value: Bool) {
        state.withLock { $0.faults.endpointSlicesServed = value }
    }

    static func goneEvent() -> ByteBuffer {
        eventLine(type: "ERROR", object: statusObject(410, reason: "Expired", message: "too old resource version"))
    }

    static func statusObject(_ code: Int, reason: String, message: String) -> JSONValue {
        .object([
            "kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]),
            "status": .string("Failure"), "message": .string(message), "reason": .string(reason),
            "code": .number(Double(code)),
        ])
    }
}

public struct SimulatorError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
