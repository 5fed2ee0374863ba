import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Synchronization

/// An etcd v3 client over etcd's JSON gateway (`/v3/kv/...`, `/v3/watch`),
/// with AsyncHTTPClient. The gateway rather than gRPC: it is plain HTTP and
/// JSON, which this package already speaks (no protobuf code generation,
/// no HTTP/2 stack), and every etcd since 3.3 serves it on the client port.
///
/// Several endpoints: a request goes to the one that last worked and, when
/// it cannot be reached, to the next.
public final class EtcdClient: Sendable {
    private let endpoints: [String]
    private let current = Mutex(0)
    private let http: HTTPClient
    private let timeout: Duration

    /// `endpoints`: `http://host:port` URLs (a trailing slash is dropped).
    public init(endpoints: [String], timeout: Duration = .seconds(5)) throws(EtcdError) {
        self.endpoints = try Self.checked(endpoints)
        self.timeout = timeout
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// The endpoints without trailing slashes; throws when there are none or
    /// one is not an http(s) URL.
    public static func checked(_ endpoints: [String]) throws(EtcdError) -> [String] {
        let cleaned = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
        guard !cleaned.isEmpty else { throw EtcdError.configuration("no etcd endpoint given") }
        for endpoint in cleaned where URL(string: endpoint)?.host == nil || !endpoint.hasPrefix("http") {
            throw EtcdError.configuration("\(endpoint) is not an http:// or https:// URL")
        }
        return cleaned
    }

    public func shutdown() async { try? await http.shutdown() }

    // MARK: Key-value

    /// The keys under `prefix` (every key when empty), and the store's
    /// revision. Read in pages of `pageSize` keys, every page at the first
    /// one's revision, so a large tree is one consistent snapshot without
    /// one reply of its whole size.
    public func range(prefix: String, pageSize: Int = 5000) async throws(EtcdError) -> (kvs: [EtcdKeyValue], revision: Int64) {
        var kvs: [EtcdKeyValue] = []
        var start = prefix.isEmpty ? "\0" : prefix
        var revision: Int64?
        while true {
            let request = RangeRequest(
                key: Self.base64(start), range_end: Self.base64(Self.rangeEnd(prefix)), limit: String(pageSize),
                revision: revision.map(String.init))
            let reply: RangeReply = try await call("/v3/kv/range", request)
            revision = revision ?? reply.header.revisionValue
            for kv in reply.kvs ?? [] { kvs.append(try kv.decoded()) }
            // The next page starts just after the last key read.
            guard reply.more == true, let last = kvs.last else { return (kvs, revision ?? 0) }
            start = last.key + "\0"
        }
    }

    /// The key's value, or nil.
    public func get(_ key: String) async throws(EtcdError) -> EtcdKeyValue? {
        let reply: RangeReply = try await call("/v3/kv/range", RangeRequest(key: Self.base64(key), range_end: nil))
        return try reply.kvs?.first?.decoded()
    }

    /// Writes the key; returns the new revision.
    @discardableResult
    public func put(_ key: String, _ value: String) async throws(EtcdError) -> Int64 {
        let reply: HeaderReply = try await call("/v3/kv/put", PutRequest(key: Self.base64(key), value: Self.base64(value)))
        return reply.header.revisionValue
    }

    /// Deletes the key, or every key under `prefix`; returns how many went.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) async throws(EtcdError) -> Int {
        let reply: DeleteReply = try await call(
            "/v3/kv/deleterange", RangeRequest(key: Self.base64(key), range_end: prefix ? Self.base64(Self.rangeEnd(key)) : nil))
        return Int(reply.deleted ?? "0") ?? 0
    }

    /// Compare-and-swap: writes the key only if its modification revision is
    /// still `modRevision` (0: the key must not exist). Returns whether it wrote.
    public func put(_ key: String, _ value: String, ifModRevision modRevision: Int64) async throws(EtcdError) -> Bool {
        let request = TxnRequest(
            compare: [.init(key: Self.base64(key), target: "MOD", result: "EQUAL", mod_revision: String(modRevision))],
            success: [.init(request_put: PutRequest(key: Self.base64(key), value: Self.base64(value)))])
        let reply: TxnReply = try await call("/v3/kv/txn", request)
        return reply.succeeded ?? false
    }

    /// One change of a batch: a put, or a delete of a key or of every key
    /// under a prefix.
    public enum Write: Sendable, Equatable {
        case put(key: String, value: String)
        case delete(key: String)
        case deletePrefix(String)
    }

    /// Writes in transactions of at most `opsPerTransaction` (etcd's
    /// default `--max-txn-ops` is 128): each transaction is applied whole
    /// or not at all, so readers never see half of one. Keys may appear
    /// only once per transaction; the caller keeps them distinct.
    public func apply(_ writes: [Write], opsPerTransaction: Int = 128) async throws(EtcdError) {
        var start = 0
        while start < writes.count {
            let end = min(start + opsPerTransaction, writes.count)
            let operations = writes[start..<end].map { write -> TxnRequest.Operation in
                switch write {
                case .put(let key, let value):
                    .init(request_put: PutRequest(key: Self.base64(key), value: Self.base64(value)))
                case .delete(let key):
                    .init(request_delete_range: RangeRequest(key: Self.base64(key), range_end: nil))
                case .deletePrefix(let prefix):
                    .init(request_delete_range: RangeRequest(key: Self.base64(prefix), range_end: Self.base64(Self.rangeEnd(prefix))))
                }
            }
            let _: TxnReply = try await call("/v3/kv/txn", TxnRequest(compare: [], success: operations))
            start = end
        }
    }

    // MARK: Watch

    /// Follows every change under `prefix` from `revision` on, handing each
    /// batch to `handle`, until cancelled. Throws `.compacted` when the
    /// history from `revision` is gone (read the keys again, then watch
    /// from the new revision), and a transport error when the stream breaks.
    public func watch(
        prefix: String, from revision: Int64, _ handle: @escaping @Sendable (EtcdWatchBatch) async throws -> Void
    ) async throws {
        let body = try Self.encode(
            WatchCreate(
                create_request: .init(
                    key: Self.base64(prefix), range_end: Self.base64(Self.rangeEnd(prefix)), start_revision: String(revision))))
        let response = try await send("/v3/watch", body, deadline: nil)
        var pending = ByteBuffer()
        do {
            for try await chunk in response.body {
                var chunk = chunk
                pending.writeBuffer(&chunk)
                // Messages are newline-delimited JSON, split anywhere by chunks.
                while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending.readData(length: newline - pending.readerIndex)!
                    pending.moveReaderIndex(forwardBy: 1)
                    guard let message = try? JSONDecoder().decode(WatchMessage.self, from: line) else {
                        throw EtcdError.protocolError(
                            "a watch message that is not JSON: \(String(decoding: line.prefix(200), as: UTF8.self))")
                    }
                    if let error = message.error { throw EtcdError.server(error.message ?? "watch failed") }
                    guard let result = message.result else { continue }
                    if let compacted = result.compact_revision.flatMap(Int64.init), compacted > 0 {
                        throw EtcdError.compacted(revision: compacted)
                    }
                    var events: [EtcdEvent] = []
                    for event in result.events ?? [] { events.append(try event.decoded()) }
                    if !events.isEmpty { try await handle(EtcdWatchBatch(events: events, revision: result.header?.revisionValue ?? 0)) }
                }
                pending.discardReadBytes()
            }
        } catch let error as EtcdError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw EtcdError.unreachable(endpoints[current.withLock { $0 }], "\(error)")
        }
        throw EtcdError.unreachable(endpoints[current.withLock { $0 }], "the watch stream ended")
    }

    // MARK: Transport

    private func call<Request: Encodable, Reply: Decodable>(_ path: String, _ request: Request) async throws(EtcdError) -> Reply {
        let body = try Self.encode(request)
        let response = try await send(path, body, deadline: .now() + .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        let data: ByteBuffer
        do { data = try await response.body.collect(upTo: 64 << 20) } catch {
            throw EtcdError.unreachable(endpoints[current.withLock { $0 }], "\(error)")
        }
        guard response.status == .ok else {
            let message = (try? JSONDecoder().decode(GatewayError.self, from: Data(buffer: data)))?.message ?? response.status.description
            throw EtcdError.server(message)
        }
        do { return try JSONDecoder().decode(Reply.self, from: Data(buffer: data)) } catch {
            throw EtcdError.protocolError("\(path): \(error)")
        }
    }

    /// Sends to the endpoint that last worked, then to each other in turn.
    private func send(_ path: String, _ body: Data, deadline: NIODeadline?) async throws(EtcdError) -> HTTPClientResponse {
        let first = current.withLock { $0 }
        var reasons: [String] = []
        for attempt in 0..<endpoints.count {
            let index = (first + attempt) % endpoints.count
            var request = HTTPClientRequest(url: endpoints[index] + path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
            do {
                let response = try await http.execute(request, deadline: deadline ?? .distantFuture)
                current.withLock { $0 = index }
                return response
            } catch {
                if Task.isCancelled { throw EtcdError.unreachable(endpoints[index], "cancelled") }
                reasons.append("\(endpoints[index]): \(error)")
            }
        }
        throw EtcdError.unreachable(endpoints.joined(separator: ","), reasons.joined(separator: "; "))
    }

    private static func encode<T: Encodable>(_ value: T) throws(EtcdError) -> Data {
        do { return try JSONEncoder().encode(value) } catch { throw EtcdError.protocolError("\(error)") }
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// The end of the range of keys starting with `prefix`: the prefix with
    /// its last byte one higher (etcd's convention); "\0" for every key.
    static func rangeEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return "\0"
    }
}

/// One key with its value and revisions.
public struct EtcdKeyValue: Sendable, Equatable {
    public var key: String
    public var value: String
    public var modRevision: Int64
    public var createRevision: Int64
}

/// What a watch saw at one revision.
public struct EtcdWatchBatch: Sendable, Equatable {
    public var events: [EtcdEvent]
    public var revision: Int64
}

public enum EtcdEvent: Sendable, Equatable {
    case put(EtcdKeyValue)
    case delete(key: String, modRevision: Int64)
}

public enum EtcdError: Error, Equatable, CustomStringConvertible {
    case configuration(String)
    case unreachable(String, String)
    case server(String)
    case protocolError(String)
    /// The history asked for was compacted away, up to this revision.
    case compacted(revision: Int64)

    public var description: String {
        switch self {
        case .configuration(let reason): "etcd: \(reason)"
        case .unreachable(let endpoint, let reason): "etcd at \(endpoint) cannot be reached: \(reason)"
        case .server(let message): "etcd refused the request: \(message)"
        case .protocolError(let reason): "etcd sent what is not its protocol: \(reason)"
        case .compacted(let revision): "etcd has compacted its history up to revision \(revision)"
        }
    }
}
