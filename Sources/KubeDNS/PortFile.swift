import Foundation

/// `--port-file`: the ports a process bound, written once they are all
/// bound, one `name=port` a line (`dns=40123`), for scripts and tests
/// that start it on port 0. Written atomically (a temporary file renamed),
/// so a reader never sees half of it.
enum PortFile {
    static func write(_ ports: [(String, Int)], to path: String?) throws {
        guard let path else { return }
        do {
            try ports.map { "\($0.0)=\($0.1)\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw PortFileError(path: path)
        }
    }
}

struct PortFileError: Error, CustomStringConvertible {
    let path: String
    var description: String { "--port-file \(path): cannot be written" }
}
