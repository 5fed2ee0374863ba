import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Signals as an async sequence, handled on a task instead of in a signal
/// handler (SIGTERM and SIGINT are swift-service-lifecycle's: Lifecycle).
enum Signals {
    /// Set before anything else runs: SIGHUP, SIGUSR1 and SIGUSR2 would end
    /// the process by default (SIGHUP and SIGUSR1 are taken later as reload
    /// requests; SIGUSR2 means nothing here), and SIGQUIT would reach the
    /// Swift runtime's crash reporter. SIGQUIT ends the process at once,
    /// without the lame duck (SIGTERM's), with status 0.
    static func prepare() {
        for number in [SIGHUP, SIGUSR1, SIGUSR2] { signal(number, SIG_IGN) }
        // The stream takes SIGQUIT from the runtime at once, as it is made.
        let quits = stream([SIGQUIT])
        Task {
            for await _ in quits {
                _ = "SIGQUIT: stopping at once\n".withCString { write(STDERR_FILENO, $0, strlen($0)) }
                _exit(0)
            }
        }
    }

    static func stream(_ numbers: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let sources = SignalSources(
                numbers.map { number in
                    signal(number, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                    source.setEventHandler { continuation.yield(number) }
                    source.resume()
                    return source
                })
            continuation.onTermination = { _ in sources.cancel() }
        }
    }
}

/// Dispatch sources are thread-safe (their methods may be called from any
/// queue), so handing them to the termination handler is safe.
private struct SignalSources: @unchecked Sendable {
    let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { sources.forEach { $0.cancel() } }
}
