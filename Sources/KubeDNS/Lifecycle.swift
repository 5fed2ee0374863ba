import Health
import Logging
import ServiceLifecycle

/// The process's tasks as swift-service-lifecycle services: SIGTERM and
/// SIGINT shut them down gracefully, the lame duck first (it is last in
/// the list, and a group shuts down in reverse order), then the rest.
enum Lifecycle {
    /// Runs `tasks` (each until cancelled) until SIGTERM or SIGINT; then
    /// `lameDuck`, then cancels the tasks, and returns.
    static func run(
        _ tasks: [(name: String, run: @Sendable () async -> Void)], lameDuck: LameDuck, logger: Logger
    ) async throws {
        var services = tasks.map { task in
            ServiceGroupConfiguration.ServiceConfiguration(
                service: ClosureService { await cancelWhenGracefulShutdown { await task.run() } },
                successTerminationBehavior: .ignore, serviceName: task.name)
        }
        services.append(.init(service: lameDuck, serviceName: "lame duck"))
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.logging.keys.serviceKey = "service"
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// Waits for the shutdown; then readiness says 503 at once and DNS keeps
/// answering for the lame-duck period, so the Service's endpoints and the
/// clients move away before the listeners close.
struct LameDuck: Service {
    let readiness: Readiness?
    let period: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        readiness?.markNotReady("shutting down")
        logger.notice("stopping after the lame-duck period", metadata: ["lameduck": "\(period)"])
        try? await Task.sleep(for: period)
        logger.notice("stopping")
    }
}
