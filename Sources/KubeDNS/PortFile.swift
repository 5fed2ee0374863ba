import Foundation

/// `--port-file`: the ports a process bound, written once they are all
/// bound, one `name=port` a line (`dns=40123`), for scripts and tests
/// that start it on port 0. Written to a temporary file and renamed, so a
/// reader never sees half of it.
enum PortFile {
    static func write(_ ports: KeyValuePairs<String, Int>, to path: String?) throws {
        guard let path else { return }
        let text = ports.map { "\($0.key)=\($0.value)\n" }.joined()
        let temporary = path + ".tmp"
        do {
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
            guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            throw PortFileError(path: path)
        }
    }
}

struct PortFileError: Error, CustomStringConvertible {
    let path: String
    var description: String { "--port-file \(path): cannot be written" }
}
