import Foundation
import LabelSelectors
import NIOCore
import NIOHTTP1

/// One connection to the simulator: routes each request to discovery, a
/// list or a watch, after the authentication and fault checks.
final class SimulatorHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let simulator: KubeAPISimulator
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var timers: [Scheduled<Void>] = []
    private var bookmarks: RepeatedTask?

    init(simulator: KubeAPISimulator) { self.simulator = simulator }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        simulator.connections.withLock { $0[ObjectIdentifier(channel)] = channel }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let id = ObjectIdentifier(context.channel)
        simulator.connections.withLock { _ = $0.removeValue(forKey: id) }
        endWatch(id)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk): body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            self.head = nil
            route(context, head)
        }
    }

    private func route(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let components = URLComponents(string: head.uri)
        let path = components?.path ?? head.uri
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }

        let (failure, served, delay) = simulator.state.withLock { state in
            // The last requests only: a simulator serving a demo for days must not grow.
            if state.requests.count >= 10_000 { state.requests.removeFirst(5_000) }
            state.requests.append(
                RecordedRequest(
                    method: head.method.rawValue, uri: head.uri, userAgent: head.headers.first(name: "User-Agent"),
                    authorization: head.headers.first(name: "Authorization"), accept: head.headers.first(name: "Accept")))
            let failure = state.faults.failure.flatMap { $0.until > .now ? $0 : nil }
            return (failure, state.faults.endpointSlicesServed, state.faults.listDelay)
        }
        if let token = simulator.configuration.bearerToken, head.headers.first(name: "Authorization") != "Bearer \(token)" {
            return respondStatus(context, 401, "Unauthorized", "a valid bearer token is required")
        }
        if let failure {
            let reason = failure.status == 429 ? "TooManyRequests" : "InternalError"
            guard failure.delay > .zero else {
                return respondStatus(context, failure.status, reason, "injected fault", retryAfter: failure.retryAfter)
            }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timers.append(
                context.eventLoop.scheduleTask(in: TimeAmount(failure.delay)) {
                    let (handler, context) = loopBound.value
                    handler.respondStatus(context, failure.status, reason, "injected fault", retryAfter: failure.retryAfter)
                })
            return
        }
        switch head.method {
        case .GET: break
        case .POST, .PUT: return write(context, path)
        case .DELETE: return remove(context, path)
        default: return respondStatus(context, 405, "MethodNotAllowed", "GET, POST, PUT and DELETE are served")
        }
        switch path {
        case "/version":
            return respondJSON(
                context, .object(["major": .string("1"), "minor": .string("30"), "gitVersion": .string("v1.30.0-simulator")]))
        case "/apis/discovery.k8s.io/v1":
            guard served else { return respondStatus(context, 404, "NotFound", "the server could not find the requested resource") }
            return respondJSON(context, .object(["kind": .string("APIResourceList"), "groupVersion": .string("discovery.k8s.io/v1")]))
        case "/apis/" + SimulatedResource.serviceImports.groupVersion:
            guard simulator.configuration.servesServiceImports else {
                return respondStatus(context, 404, "NotFound", "the server could not find the requested resource")
            }
            return respondJSON(
                context,
                .object(["kind": .string("APIResourceList"), "groupVersion": .string(SimulatedResource.serviceImports.groupVersion)]))
        default: break
        }
        guard let resource = SimulatedResource.all.first(where: { $0.path == path }),
            served || resource != .endpointSlices
        else { return respondStatus(context, 404, "NotFound", "the server could not find the requested resource") }

        let selector: LabelSelector?
        if let text = query["labelSelector"], !text.isEmpty {
            do { selector = try LabelSelector(text) } catch {
                return respondStatus(context, 400, "BadRequest", "unable to parse requirement: \(error)")
            }
        } else {
            selector = nil
        }
        if query["watch"] == "true" || query["watch"] == "1" {
            return watch(context, resource, query, selector)
        }
        if delay.delay > .zero, !delay.afterFirstPage || query["continue"] != nil {
            let query = query
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timers.append(
                context.eventLoop.scheduleTask(in: TimeAmount(delay.delay)) {
                    let (handler, context) = loopBound.value
                    handler.list(context, resource, query, selector)
                })
            return
        }
        list(context, resource, query, selector)
    }

    // MARK: Writes

    /// POST to a collection or PUT to an object (`/api/v1/namespaces/<ns>/services[/<name>]`):
    /// stores the object in the body, as kubectl apply does.
    private func write(_ context: ChannelHandlerContext, _ path: String) {
        guard let object = try? JSONValue(data: Data(body.readableBytesView)),
            let kind = object["kind"]?.stringValue, let resource = SimulatedResource.of(kind: kind),
            Self.resource(of: path)?.resource == resource
        else { return respondStatus(context, 400, "BadRequest", "the body is not an object of the path's resource") }
        let stored = simulator.state.withLock { state -> JSONValue in
            let change = state.commit(resource, object)
            simulator.deliver(change, &state)
            return change.object
        }
        respondJSON(context, stored)
    }

    private func remove(_ context: ChannelHandlerContext, _ path: String) {
        guard let (resource, namespace, name) = Self.resource(of: path), let name else {
            return respondStatus(context, 404, "NotFound", "no such object")
        }
        guard simulator.delete(resource, namespace: namespace, name: name) else {
            return respondStatus(context, 404, "NotFound", "\(resource.plural) \"\(name)\" not found")
        }
        respondJSON(context, KubeAPISimulator.statusObject(200, reason: "", message: "deleted"))
    }

    /// The resource, namespace and name an object path names:
    /// `/api/v1/namespaces/<ns>/<plural>[/<name>]` or `/api/v1/namespaces[/<name>]`.
    static func resource(of path: String) -> (resource: SimulatedResource, namespace: String, name: String?)? {
        for resource in SimulatedResource.all {
            let prefix = resource.path.dropLast(resource.plural.count)
            guard path.hasPrefix(prefix) else { continue }
            let parts = path.dropFirst(prefix.count).split(separator: "/").map(String.init)
            if !resource.namespaced, parts.first == resource.plural, parts.count <= 2 {
                return (resource, "", parts.count == 2 ? parts[1] : nil)
            }
            if resource.namespaced, parts.count >= 3, parts.count <= 4, parts[0] == "namespaces", parts[2] == resource.plural {
                return (resource, parts[1], parts.count == 4 ? parts[3] : nil)
            }
        }
        return nil
    }

    // MARK: List

    private func list(
        _ context: ChannelHandlerContext, _ resource: SimulatedResource, _ query: [String: String], _ selector: LabelSelector?
    ) {
        let limit = query["limit"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? Int.max
        let result = simulator.state.withLock { state -> Result<JSONValue, ListFailure> in
            var listVersion = state.revision
            var after: String?
            if let token = query["continue"], !token.isEmpty {
                guard let decoded = Data(base64Encoded: token).map({ String(decoding: $0, as: UTF8.self) }),
                    let colon = decoded.firstIndex(of: ":"), let version = Int(decoded[..<colon])
                else { return .failure(.badToken) }
                guard version >= state.compactedRevision else { return .failure(.expired) }
                listVersion = version
                after = String(decoded[decoded.index(after: colon)...])
            }
            let objects = state.objects[resource] ?? [:]
            var sorted = state.sortedKeys(resource)
            if let selector { sorted = sorted.filter { selector.matches(objects[$0]!.labels) } }
            let start = after.map { sorted.firstIndex(after: $0) } ?? 0
            let page = sorted[start...].prefix(limit)
            var metadata: [String: JSONValue] = ["resourceVersion": .string("\(listVersion)")]
            if page.endIndex < sorted.endIndex, let last = page.last {
                metadata["continue"] = .string(Data("\(listVersion):\(last)".utf8).base64EncodedString())
            }
            return .success(
                .object([
                    "kind": .string(resource.kind + "List"), "apiVersion": .string(resource.groupVersion),
                    "metadata": .object(metadata), "items": .array(page.map { objects[$0]! }),
                ]))
        }
        switch result {
        case .success(let body): respondJSON(context, body)
        case .failure(.badToken): respondStatus(context, 400, "BadRequest", "invalid continue token")
        case .failure(.expired):
            respondStatus(context, 410, "Expired", "the provided continue parameter is too old")
        }
    }

    private enum ListFailure: Error { case badToken, expired }

    // MARK: Watch

    private func watch(
        _ context: ChannelHandlerContext, _ resource: SimulatedResource, _ query: [String: String], _ selector: LabelSelector?
    ) {
        let channel = context.channel
        let id = ObjectIdentifier(channel)
        let requested = query["resourceVersion"] ?? ""
        let wantsBookmarks = query["allowWatchBookmarks"] == "true"
        let accepted = simulator.state.withLock { state -> Bool in
            let replay: [SimulatorState.Change]
            if requested.isEmpty || requested == "0" {
                // "Any version": the current objects as ADDED, then changes.
                replay = (state.objects[resource] ?? [:]).values.map {
                    .init(revision: state.revision, resource: resource, type: "ADDED", object: $0, previous: nil)
                }
            } else if let version = Int(requested), let changes = state.changes(resource, after: version) {
                replay = changes
            } else {
                if state.faults.goneAsHTTPStatus { return false }
                context.write(wrapOutboundOut(.head(Self.streamHead())), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(KubeAPISimulator.goneEvent()))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return true
            }
            context.write(wrapOutboundOut(.head(Self.streamHead())), promise: nil)
            for change in replay {
                guard let (type, object) = change.seen(through: selector) else { continue }
                context.write(wrapOutboundOut(.body(.byteBuffer(KubeAPISimulator.eventLine(type: type, object: object)))), promise: nil)
            }
            context.flush()
            state.watches[id] = .init(resource: resource, selector: selector, channel: channel, bookmarks: wantsBookmarks)
            return true
        }
        guard accepted else {
            return respondStatus(context, 410, "Expired", "too old resource version: \(requested)")
        }
        let simulator = self.simulator
        if let seconds = query["timeoutSeconds"].flatMap(Int.init), seconds > 0 {
            timers.append(
                context.eventLoop.scheduleTask(in: .seconds(Int64(seconds))) {
                    let open = simulator.state.withLock { state -> Bool in
                        guard let watch = state.watches[id], !watch.stalled else { return false }
                        state.watches[id] = nil
                        return true
                    }
                    if open { channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil) }
                })
        }
        if wantsBookmarks {
            let interval = simulator.configuration.bookmarkInterval
            let kind = resource.kind
            let groupVersion = resource.groupVersion
            bookmarks = context.eventLoop.scheduleRepeatedTask(
                initialDelay: TimeAmount(interval), delay: TimeAmount(interval)
            ) { _ in
                simulator.state.withLock { state in
                    guard let watch = state.watches[id], !watch.stalled else { return }
                    let bookmark = JSONValue.object([
                        "kind": .string(kind), "apiVersion": .string(groupVersion),
                        "metadata": .object(["resourceVersion": .string("\(state.revision)")]),
                    ])
                    channel.writeAndFlush(
                        HTTPServerResponsePart.body(.byteBuffer(KubeAPISimulator.eventLine(type: "BOOKMARK", object: bookmark))),
                        promise: nil)
                }
            }
        }
    }

    private func endWatch(_ id: ObjectIdentifier) {
        simulator.state.withLock { _ = $0.watches.removeValue(forKey: id) }
        for timer in timers { timer.cancel() }
        timers.removeAll()
        bookmarks?.cancel()
        bookmarks = nil
    }

    private static func streamHead() -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        return HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
    }

    // MARK: Plain responses

    private func respondJSON(_ context: ChannelHandlerContext, _ body: JSONValue, status: HTTPResponseStatus = .ok, retryAfter: Int = 1) {
        var headers = HTTPHeaders()
        let data = body.data
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(data.count)")
        if status == .tooManyRequests { headers.add(name: "Retry-After", value: "\(retryAfter)") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: data)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func respondStatus(_ context: ChannelHandlerContext, _ code: Int, _ reason: String, _ message: String, retryAfter: Int = 1) {
        respondJSON(
            context, KubeAPISimulator.statusObject(code, reason: reason, message: message), status: HTTPResponseStatus(statusCode: code),
            retryAfter: retryAfter)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension Array where Element == String {
    /// The index of the first key greater than `key`, in a sorted array.
    func firstIndex(after key: String) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] <= key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
