import AsyncHTTPClient
import Foundation
import JSONDecoding
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Requests to one API server: JSON lists and chunked watch streams.
public final class APIClient: Sendable {
    public let access: ClusterAccess
    private let http: HTTPClient
    private let userAgent: String
    /// One event loop reads every connection to the server.
    private let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// That loop's thread: watch streams are read, decoded and handed on
    /// there, and a task that prefers it takes what they hand on without a
    /// thread waking for each event.
    public let streamExecutor: EventLoopTaskExecutor

    /// A request without an answer head by then has failed.
    static let requestTimeout = TimeAmount.seconds(30)

    public init(access: ClusterAccess, userAgent: String) throws(AccessError) {
        self.access = access
        self.userAgent = userAgent
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: .seconds(5)), decompression: .disabled)
        configuration.redirectConfiguration = .disallow
        if access.server.scheme?.lowercased() == "https" {
            configuration.tlsConfiguration = try Self.tls(for: access)
        }
        http = HTTPClient(eventLoopGroupProvider: .shared(loops), configuration: configuration)
        streamExecutor = EventLoopTaskExecutor(loops.next())
    }

    private static func tls(for access: ClusterAccess) throws(AccessError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = access.certificateAuthority {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca)))
            }
            if let certificate = access.clientCertificate, let key = access.clientKey {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificate)).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key), format: .pem))
            }
        } catch {
            throw AccessError("TLS material is not valid PEM: \(error)")
        }
        if access.insecureSkipTLSVerify { tls.certificateVerification = .none }
        return tls
    }

    public func shutdown() async {
        try? await http.shutdown()
        try? await loops.shutdownGracefully()
    }

    /// GET `path` with `query`; the response once its head has arrived
    /// with a success status, else the server's `Status` as an error.
    func get(_ path: String, _ query: [(String, String)]) async throws(APIError) -> HTTPClientResponse {
        var components = URLComponents(url: access.server, resolvingAgainstBaseURL: false)!
        components.path = (components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path) + path
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        var request = HTTPClientRequest(url: components.string!)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: userAgent)
        do {
            if let authorization = try access.authorization() {
                request.headers.add(name: "Authorization", value: authorization)
            }
        } catch {
            throw .transport(error.description)
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: Self.requestTimeout)
        } catch {
            throw .transport(Self.reason(error))
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            let body = try? await response.body.collect(upTo: 64 * 1024)
            let status = body.flatMap { try? JSONNode.decode(Status.self, from: $0.readableBytesView) }
            let (code, message) = (Int(response.status.code), status?.summary ?? response.status.reasonPhrase)
            // Retry-After in seconds (RFC 9110 section 10.2.3); the date form is not used by the API server.
            if code == 429 || code == 503, let seconds = response.headers.first(name: "Retry-After").flatMap({ Int($0) }), seconds >= 0 {
                throw .throttled(code: code, message: message, retryAfter: .seconds(min(seconds, Self.longestRetryAfter)))
            }
            throw .status(code: code, message: message)
        }
        return response
    }

    /// A Retry-After past this is taken as this (seconds).
    static let longestRetryAfter = 300

    /// The whole body, decoded.
    func getJSON<T: JSONDecodable>(_ type: T.Type, _ path: String, _ query: [(String, String)] = []) async throws(APIError) -> T {
        let response = try await get(path, query)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: 1 << 30)
        } catch {
            throw .transport(Self.reason(error))
        }
        do {
            return try JSONNode.decode(T.self, from: body.readableBytesView)
        } catch let error as DecodingError {
            throw .protocolViolation("\(path): \(error.oneLine)")
        } catch {
            throw .protocolViolation("\(path): \(error)")
        }
    }

    /// Whether the server serves an API group version (`/apis/<group>/<version>`).
    public func serves(groupVersion: String) async throws(APIError) -> Bool {
        do {
            _ = try await get("/apis/\(groupVersion)", [])
            return true
        } catch {
            guard error.isNotFound else { throw error }
            return false
        }
    }

    /// Reads a watch stream line by line until the server ends it, handing
    /// each event to `handle`. A stream silent for longer than `silence`
    /// is a dead connection and ends with `.silent`.
    func watch<Object>(
        _ path: String, _ query: [(String, String)], silence: Duration, opened: @Sendable () -> Void = {},
        handle: @escaping @Sendable (WatchEvent<Object>) async throws -> Void
    ) async throws {
        let response = try await get(path, query)
        opened()
        let lastActivity = LastActivity()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask(executorPreference: streamExecutor) {
                var pending = ByteBuffer()
                do {
                    for try await chunk in response.body {
                        lastActivity.touch()
                        var chunk = chunk
                        pending.writeBuffer(&chunk)
                        // Events are newline-delimited JSON, split anywhere by chunks.
                        while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                            let line = pending.readableBytesView[..<newline]
                            pending.moveReaderIndex(to: newline + 1)
                            guard !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) else { continue }
                            try await handle(try Self.decodeEvent(line, path))
                        }
                        pending.discardReadBytes()
                    }
                } catch let error as APIError {
                    throw error
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    throw APIError.transport(Self.reason(error))
                }
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: .seconds(1))
                    let quiet = lastActivity.quiet
                    if quiet > silence { throw APIError.silent(seconds: Int(quiet.components.seconds)) }
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private static func decodeEvent<Object>(_ line: ByteBufferView.SubSequence, _ path: String) throws(APIError) -> WatchEvent<Object> {
        do {
            return try JSONNode.decode(WatchEvent<Object>.self, from: line)
        } catch let error as DecodingError {
            throw .protocolViolation("\(path) watch event: \(error.oneLine)")
        } catch {
            throw .protocolViolation("\(path) watch event: \(error)")
        }
    }

    /// A transport error in words: NIO's errors print as type names.
    static func reason(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        if let error = error as? NIOConnectionError {
            return "cannot connect: \(error.connectionErrors.first.map { "\($0.error)" } ?? "\(error)")"
        }
        return String(describing: error)
    }
}

/// When a stream last delivered bytes, for its watchdog.
private final class LastActivity: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    func touch() { instant.withLock { $0 = .now } }

    var quiet: Duration { .now - instant.withLock { $0 } }
}
