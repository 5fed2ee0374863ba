import ArgumentParser
import Foundation
import KubeAPISimulator

/// `kube-api-simulator`: the simulated API server on its own, for demos
/// and for pointing `kube-dns --kube-master-url` at by hand.
@main
struct SimulatorTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-api-simulator",
        abstract: "Serve a simulated Kubernetes API (list and watch) on 127.0.0.1.")

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port = 8080

    @Option(help: "A JSON file of objects to serve: a `List` (as `kubectl get -o json` writes) or an array.")
    var objects: String?

    func run() async throws {
        let simulator = try KubeAPISimulator()
        if let objects {
            guard let data = FileManager.default.contents(atPath: objects) else {
                throw ValidationError("--objects \(objects): cannot be read")
            }
            let document = try JSONValue(data: data)
            if case .array(let items) = document["items"] ?? document {
                simulator.apply(objects: items)
            } else {
                throw ValidationError("--objects \(objects): neither a List nor an array")
            }
        }
        let bound = try await simulator.start(port: port)
        // Standard error: unbuffered, so a script waiting for the line sees it at once.
        FileHandle.standardError.write(Data("listening on http://127.0.0.1:\(bound)\n".utf8))
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
