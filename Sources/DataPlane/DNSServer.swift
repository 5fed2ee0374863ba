import CDataPlane
import DNSModel
import Synchronization

/// The DNS server: the C data plane's worker threads and sockets.
///
/// The sockets are bound when it is created, so the port is taken (or the
/// error is known) before anything else starts. `publish` may be called
/// from any task; calls are serialised here, as the C contract asks for
/// one control thread at a time.
public final class DNSServer: Sendable {
    public struct Configuration: Sendable {
        public var address: String
        public var port: UInt16
        public var threads: Int
        public var tcpMaxConnections: Int
        public var tcpIdleTimeoutMilliseconds: Int
        /// Forwarded queries in flight at most, across the workers.
        public var forwardMaxConcurrent: Int = 4096
        /// Forwarded answers the cache keeps at most.
        public var cacheSize: Int = 10_000
        /// Caps on how long answers (and NXDOMAIN/NODATA) are cached, in seconds.
        public var cacheMaxTTL: Int = 3600
        public var cacheMaxNegativeTTL: Int = 1800
        /// How long past its expiry an answer may be served while every
        /// upstream fails (RFC 8767); zero: never.
        public var serveStale: Duration = .zero
        /// The reply to a query beyond `forwardMaxConcurrent`.
        public var overCapReply: ResponseCode = .servFail
        /// Cached answers give the upstream's TTLs, not what is left of them.
        public var cacheKeepsTTL = false
        /// A cached answer's RRs say at most how long the answer is kept
        /// (CoreDNS's cache), not each its own TTL up to `cacheMaxTTL` (dnsmasq's).
        public var cacheTTLsWithinLifetime = false
        /// Popular cached answers asked again before they expire; nil: never.
        public var prefetch: Prefetch?
        /// Response rate limiting of UDP replies; nil: none.
        public var rateLimit: RateLimit?

        /// At most `responsesPerSecond` UDP replies a second to each source
        /// prefix; every `slip`th one past it goes out truncated (0: none).
        public struct RateLimit: Sendable, Equatable {
            public var responsesPerSecond: Int
            public var slip: Int
            public var ipv4PrefixLength: Int
            public var ipv6PrefixLength: Int

            public init(responsesPerSecond: Int, slip: Int = 2, ipv4PrefixLength: Int = 24, ipv6PrefixLength: Int = 56) {
                (self.responsesPerSecond, self.slip) = (responsesPerSecond, slip)
                (self.ipv4PrefixLength, self.ipv6PrefixLength) = (ipv4PrefixLength, ipv6PrefixLength)
            }
        }

        /// An answer asked for `amount` times with no gap of `gap` between
        /// them is asked again when under `percentage` of its TTL is left.
        public struct Prefetch: Sendable, Equatable {
            public var amount: Int
            public var gap: Duration
            public var percentage: Int

            public init(amount: Int, gap: Duration, percentage: Int) {
                (self.amount, self.gap, self.percentage) = (amount, gap, percentage)
            }
        }

        public init(
            address: String, port: UInt16, threads: Int, tcpMaxConnections: Int = 1024,
            tcpIdleTimeoutMilliseconds: Int = 10_000
        ) {
            self.address = address
            self.port = port
            self.threads = threads
            self.tcpMaxConnections = tcpMaxConnections
            self.tcpIdleTimeoutMilliseconds = tcpIdleTimeoutMilliseconds
        }
    }

    /// The C server; nil once stopped. Guarded by the mutex.
    private let server: Mutex<ServerPointer>

    /// The port bound (the kernel's choice when configured as 0).
    public let port: UInt16

    /// Binds the sockets and serves `initial` once started.
    public init(_ configuration: Configuration, initial: consuming AnswerTable) throws(DataPlaneError) {
        var err = [CChar](repeating: 0, count: 512)
        var config = dp_server_config()
        config.port = configuration.port
        // Clamped, not converted: a value past 32 bits must not trap here.
        config.threads = UInt32(clamping: max(1, configuration.threads))
        config.tcp_max_connections = UInt32(clamping: max(1, configuration.tcpMaxConnections))
        config.tcp_idle_timeout_ms = UInt32(clamping: max(1, configuration.tcpIdleTimeoutMilliseconds))
        config.forward_max_concurrent = UInt32(clamping: max(1, configuration.forwardMaxConcurrent))
        config.cache_size = UInt32(clamping: max(0, configuration.cacheSize))
        config.cache_max_ttl = UInt32(clamping: max(0, configuration.cacheMaxTTL))
        config.cache_max_negative_ttl = UInt32(clamping: max(0, configuration.cacheMaxNegativeTTL))
        config.serve_stale_s = UInt32(clamping: max(0, configuration.serveStale.components.seconds))
        config.over_cap_rcode = configuration.overCapReply.rawValue
        config.cache_keep_ttl = configuration.cacheKeepsTTL
        config.cache_ttls_within_lifetime = configuration.cacheTTLsWithinLifetime
        if let prefetch = configuration.prefetch {
            config.prefetch_amount = UInt32(clamping: max(1, prefetch.amount))
            config.prefetch_gap_s = UInt32(clamping: prefetch.gap.components.seconds)
            config.prefetch_percent = UInt32(clamping: prefetch.percentage)
        }
        if let limit = configuration.rateLimit {
            config.rrl_responses_per_second = UInt32(clamping: max(0, limit.responsesPerSecond))
            config.rrl_slip = UInt32(clamping: max(0, limit.slip))
            config.rrl_ipv4_prefix = UInt32(clamping: limit.ipv4PrefixLength)
            config.rrl_ipv6_prefix = UInt32(clamping: limit.ipv6PrefixLength)
        }
        let table = initial.release()
        let created = configuration.address.withCString { address in
            config.address = address
            return dp_server_new(&config, table, &err, err.count)
        }
        guard let created else { throw DataPlaneError(err) }
        server = Mutex(ServerPointer(pointer: created))
        port = dp_server_port(created)
    }

    /// Sets how malloc keeps the process's memory (see dp_tune_malloc):
    /// call first thing, before any thread starts.
    public static func tuneMalloc() { dp_tune_malloc() }

    /// Starts the worker threads.
    public func start() throws(DataPlaneError) {
        var err = [CChar](repeating: 0, count: 512)
        let status = server.withLock { s -> Int32 in
            guard let pointer = s.pointer else { return -1 }
            return dp_server_start(pointer, &err, err.count)
        }
        guard status == 0 else { throw DataPlaneError(err) }
    }

    /// Makes `table` the one workers answer from; the old one is freed once
    /// no worker reads it.
    public func publish(_ table: consuming AnswerTable) {
        let pointer = table.release()
        server.withLock { s in
            if let server = s.pointer { dp_server_publish(server, pointer) } else { dp_table_free(pointer) }
        }
    }

    /// Publishes the table that follows the current one with `changes`
    /// made, under the zone heads `heads`: built as a delta under the
    /// lock, so no other publication frees its base meanwhile. Returns the
    /// new table's name count.
    @discardableResult
    public func publish(_ heads: ZoneSet, changes: ZoneChanges) throws(DataPlaneError) -> Int {
        try server.withLock { s throws(DataPlaneError) -> Int in
            guard let server = s.pointer else { throw DataPlaneError("the server is stopped") }
            let table = try AnswerTable(heads, changes: changes, base: dp_server_table(server))
            let names = table.nameCount
            dp_server_publish(server, table.release())
            return names
        }
    }

    /// Makes `table` the hosts table: asked for the names the table leaves
    /// to forwarding (see dp_server_publish_hosts); nil: none.
    public func publishHosts(_ table: consuming AnswerTable?) {
        let pointer = table?.release()
        server.withLock { s in
            if let server = s.pointer { dp_server_publish_hosts(server, pointer) } else { dp_table_free(pointer) }
        }
    }

    /// What the query log takes (see dp_server_set_query_log): every
    /// answered query, or only those answered SERVFAIL (`errors`).
    public func logQueries(_ queries: Bool, errors: Bool = false) {
        let mode = (queries ? UInt32(DP_LOG_QUERIES) : 0) | (errors ? UInt32(DP_LOG_ERRORS) : 0)
        server.withLock { s in
            if let pointer = s.pointer { dp_server_set_query_log(pointer, mode) }
        }
    }

    /// The queries answered since the last call, as log lines are made
    /// of, in the order they were answered (each worker has a ring of its own).
    public func takeQueryLog(max: Int = 4096) -> [QueryLogEntry] {
        var entries = [dp_query_log_entry](repeating: dp_query_log_entry(), count: max)
        let count = server.withLock { s -> Int in
            guard let pointer = s.pointer else { return 0 }
            return dp_server_read_query_log(pointer, &entries, max)
        }
        return entries.prefix(count).sorted { $0.answered_us < $1.answered_us }.map(QueryLogEntry.init)
    }

    /// Sends names that are not ours along `forwarding` from now on (the
    /// cache is emptied, each upstream is probed for a loop); nil: they
    /// get REFUSED.
    public func forward(_ forwarding: Forwarding?) throws(DataPlaneError) {
        var err = [CChar](repeating: 0, count: 512)
        let plan = try forwarding.map { f throws(DataPlaneError) in try f.makeC() }
        let status = server.withLock { s -> Int32 in
            guard let pointer = s.pointer else {
                dp_forwarding_free(plan)
                return 0
            }
            return dp_server_set_forwarding(pointer, plan, &err, err.count)
        }
        guard status == 0 else { throw DataPlaneError(err) }
    }

    /// Bytes the table workers answer from takes (0 once stopped).
    public func tableByteCount() -> Int {
        server.withLock { s in s.pointer.map { dp_table_bytes(dp_server_table($0)) } ?? 0 }
    }

    /// Every upstream address forwarded to so far, with its counters.
    public func upstreamStats() -> [UpstreamStats] {
        server.withLock { s in
            guard let pointer = s.pointer else { return [] }
            return (0..<dp_server_upstream_count(pointer)).map { index in
                var stats = dp_upstream_stats()
                dp_server_upstream_stats(pointer, index, &stats)
                return UpstreamStats(stats)
            }
        }
    }

    /// A worker whose event loop has not turned for `deadline`, and how
    /// long it has been silent; nil while every loop turns (or once stopped).
    public func stalledWorker(deadline: Duration) -> (worker: Int, silent: Duration)? {
        server.withLock { s -> (worker: Int, silent: Duration)? in
            guard let pointer = s.pointer else { return nil }
            var age: UInt64 = 0
            let worker = dp_server_stalled_worker(pointer, UInt64(max(0, deadline.wholeMilliseconds)), &age)
            return worker < 0 ? nil : (Int(worker), .milliseconds(Int64(age)))
        }
    }

    /// Test hook: blocks one worker's event loop, as a wedged loop would be.
    public func blockWorkerForTest(_ worker: Int, for duration: Duration) {
        server.withLock { s in
            guard let pointer = s.pointer else { return }
            dp_server_block_worker_for_test(pointer, UInt32(worker), UInt64(max(0, duration.wholeMilliseconds)))
        }
    }

    /// Counters summed over the workers.
    public func stats() -> DataPlaneStats {
        var stats = dp_stats()
        server.withLock { s in
            if let pointer = s.pointer { dp_server_stats(pointer, &stats) }
        }
        return DataPlaneStats(stats)
    }

    /// Stops the workers and closes the sockets. Idempotent.
    public func stop() {
        server.withLock { s in
            if let pointer = s.pointer { dp_server_free(pointer) }
            s.pointer = nil
        }
    }

    deinit { stop() }
}

/// The C server handle. It is only used under the mutex of `DNSServer`,
/// and the C server it points to is safe to drive from any one thread at
/// a time, so sending it between threads is safe.
private struct ServerPointer: @unchecked Sendable {
    var pointer: OpaquePointer?
}
