import ArgumentParser
import Foundation
import KubeAPISimulator

/// `kube-api-simulator`: the simulated API server on its own, for demos,
/// for pointing `kube-dns --kube-master-url` at by hand, and (with
/// `--tls-certificate` and `--token`) for a pod's in-cluster access.
@main
struct SimulatorTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-api-simulator",
        abstract: "Serve a simulated Kubernetes API (list and watch) on 127.0.0.1.")

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port = 8080

    @Option(help: "A JSON file of objects to serve: a `List` (as `kubectl get -o json` writes) or an array.")
    var objects: String?

    @Option(help: "Serve HTTPS with this PEM certificate chain (with --tls-key).")
    var tlsCertificate: String?

    @Option(help: "The PEM private key of --tls-certificate.")
    var tlsKey: String?

    @Option(help: "Answer 401 to a request without this bearer token (a service account's token file).")
    var tokenFile: String?

    func validate() throws {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-certificate and --tls-key go together")
        }
    }

    func run() async throws {
        var configuration = KubeAPISimulator.Configuration()
        if let tlsCertificate, let tlsKey {
            configuration.tls = (try Self.read(tlsCertificate, "--tls-certificate"), try Self.read(tlsKey, "--tls-key"))
        }
        if let tokenFile {
            configuration.bearerToken = try Self.read(tokenFile, "--token-file").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let simulator = try KubeAPISimulator(configuration)
        if let objects {
            let document = try JSONValue(data: Data(try Self.read(objects, "--objects").utf8))
            if case .array(let items) = document["items"] ?? document {
                simulator.apply(objects: items)
            } else {
                throw ValidationError("--objects \(objects): neither a List nor an array")
            }
        }
        let bound = try await simulator.start(port: port)
        let scheme = configuration.tls == nil ? "http" : "https"
        // Standard error: unbuffered, so a script waiting for the line sees it at once.
        FileHandle.standardError.write(Data("listening on \(scheme)://127.0.0.1:\(bound)\n".utf8))
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    static func read(_ path: String, _ flag: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(flag) \(path): cannot be read")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
