/// Where something stands in a Corefile: the file and its line.
public struct CorefileLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// A Corefile that cannot be served, said in one line the way CoreDNS
/// says it (`Corefile:3 - Error during parsing: Unknown directive 'foo'`).
public struct CorefileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: CorefileLocation
    public var message: String

    public init(_ message: String, at location: CorefileLocation) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location.file):\(location.line) - Error during parsing: \(message)" }
}
