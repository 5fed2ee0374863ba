import Testing

/// Runs a suite against one `kube-dns` process, started before its first
/// test and stopped after its last: `@Suite(.kubeDNS([...]))`, then
/// `try ServerProcess.current` in the tests.
public struct KubeDNSServerTrait: SuiteTrait, TestScoping {
    let arguments: [String]

    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try ServerProcess(arguments)
        defer { server.stop() }
        try await ServerProcess.$scoped.withValue(server) { try await function() }
    }
}

extension Trait where Self == KubeDNSServerTrait {
    public static func kubeDNS(_ arguments: [String]) -> Self { KubeDNSServerTrait(arguments: arguments) }
}

extension ServerProcess {
    @TaskLocal static var scoped: ServerProcess?

    /// The server of the suite's `.kubeDNS` trait.
    public static var current: ServerProcess {
        get throws {
            guard let scoped else { throw ServerError.notAnswering(stderr: "no .kubeDNS trait on this suite") }
            return scoped
        }
    }
}
