import Etcd

/// Runs `body` with a client of `endpoints`, shut down however `body` ends
/// (AsyncHTTPClient traps when a client is released without a shutdown,
/// which would end the whole test run).
///
/// The requests' timeout is long by default: tests assert behaviour, and a
/// fresh etcd's first write on a loaded CI machine has taken longer than
/// the client's default of 5 s.
public func withEtcdClient<Result>(
    _ endpoints: [String], timeout: Duration = .seconds(60), _ body: (EtcdClient) async throws -> Result
) async throws -> Result {
    let client = try EtcdClient(endpoints: endpoints, timeout: timeout)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}
