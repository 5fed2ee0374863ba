import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Signals as an async sequence, handled on a task instead of in a signal
/// handler (SIGTERM and SIGINT are swift-service-lifecycle's: Lifecycle).
enum Signals {
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
