import Foundation

/// The ports a child process wrote with `--port-file` once it had bound
/// them: read when the file appears, or nil once the process has exited
/// without writing it (or after `timeout`).
enum PortFileReader {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kube-dns-ports-\(UUID().uuidString)").path
    }

    static func wait(_ path: String, for process: Process, timeout: Duration = .seconds(30)) -> [String: UInt16]? {
        defer { try? FileManager.default.removeItem(atPath: path) }
        var ports: [String: UInt16]?
        _ = eventually(timeout: timeout) {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                ports = Dictionary(
                    text.split(separator: "\n").compactMap { line in
                        let parts = line.split(separator: "=")
                        guard parts.count == 2, let port = UInt16(parts[1]) else { return nil }
                        return (String(parts[0]), port)
                    }, uniquingKeysWith: { $1 })
                return true
            }
            return !process.isRunning
        }
        return ports
    }
}
