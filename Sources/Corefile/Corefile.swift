/// A Corefile read into its server blocks, imports expanded and
/// environment variables substituted (coredns.io/manual/configuration).
public struct Corefile: Sendable {
    public var serverBlocks: [ServerBlock]

    /// Reads the Corefile at `path` (its text given), importing through
    /// `files`; keys without a port take `defaultPort` (`-dns.port`).
    public init(
        path: String, text: String, files: any CorefileFiles = LocalCorefileFiles(), environment: [String: String] = [:],
        defaultPort: Int = 53
    ) throws(CorefileError) {
        var expander = ImportExpander(files: files, environment: environment)
        let tokens = try expander.expand(file: path, text: text)
        var reader = DirectiveReader(tokens: tokens, defaultPort: defaultPort)
        serverBlocks = try reader.serverBlocks()
        try Self.checkKeysUnique(serverBlocks)
    }

    /// Two blocks for one zone on one port: CoreDNS refuses to start.
    private static func checkKeysUnique(_ blocks: [ServerBlock]) throws(CorefileError) {
        var seen: [ServerKey: ServerKey] = [:]
        for block in blocks {
            for key in block.keys {
                if let earlier = seen[key] {
                    throw CorefileError(
                        "cannot serve \(key) - zone already defined for \(earlier) at \(earlier.location)", at: key.location)
                }
                seen[key] = key
            }
        }
    }
}

/// One server block: the zones and port it serves, and its directives in
/// the order written (the plugin chain's order is CoreDNS's, not this).
public struct ServerBlock: Sendable {
    public var keys: [ServerKey]
    public var directives: [Directive]
    public var location: CorefileLocation
}

/// A plugin's line (`forward . /etc/resolv.conf`) or an option's inside
/// its block (`max_concurrent 1000`), with the block that follows it.
public struct Directive: Sendable, Equatable {
    public var name: String
    public var arguments: [String]
    /// The lines of its `{ ... }` block; nil when it has none.
    public var block: [Directive]?
    public var location: CorefileLocation

    public init(_ name: String, _ arguments: [String] = [], block: [Directive]? = nil, at location: CorefileLocation) {
        self.name = name
        self.arguments = arguments
        self.block = block
        self.location = location
    }
}

/// Reads server blocks and directives from the expanded tokens.
struct DirectiveReader {
    let tokens: [CorefileToken]
    let defaultPort: Int
    var index = 0

    init(tokens: [CorefileToken], defaultPort: Int) {
        self.tokens = tokens
        self.defaultPort = defaultPort
    }

    mutating func serverBlocks() throws(CorefileError) -> [ServerBlock] {
        var blocks: [ServerBlock] = []
        while index < tokens.count {
            let first = tokens[index]
            var keys: [ServerKey] = []
            // Keys, separated by white space or commas, up to the block's brace.
            while index < tokens.count, !tokens[index].opensBlock {
                let token = tokens[index]
                if token.closesBlock { throw CorefileError("Unexpected '}': no block is open", at: token.location) }
                guard token.lineID == first.lineID || tokens[index - 1].text.hasSuffix(",") else {
                    throw CorefileError("Expected '{' after the server block's keys, found '\(token.text)'", at: token.location)
                }
                for text in token.text.split(separator: ",") {
                    keys += try ServerKey.parse(String(text), defaultPort: defaultPort, at: token.location)
                }
                index += 1
            }
            guard index < tokens.count else { throw CorefileError("Expected '{' after the server block's keys", at: first.location) }
            index += 1
            blocks.append(ServerBlock(keys: keys, directives: try blockBody(openedAt: first.location), location: first.location))
        }
        return blocks
    }

    /// The directives up to the `}` that closes the block opened at `open`.
    private mutating func blockBody(openedAt open: CorefileLocation) throws(CorefileError) -> [Directive] {
        var directives: [Directive] = []
        while index < tokens.count {
            let name = tokens[index]
            index += 1
            if name.closesBlock { return directives }
            if name.opensBlock { throw CorefileError("Unexpected '{': a block needs a directive before it", at: name.location) }
            var arguments: [String] = []
            var block: [Directive]?
            while index < tokens.count, tokens[index].lineID == name.lineID {
                let token = tokens[index]
                if token.closesBlock { break }
                index += 1
                if token.opensBlock {
                    block = try blockBody(openedAt: token.location)
                    break
                }
                arguments.append(token.text)
            }
            directives.append(Directive(name.text, arguments, block: block, at: name.location))
        }
        // Where the input ends: the last token, in whichever file it stands.
        throw CorefileError("Unexpected EOF: the block opened at line \(open.line) is not closed", at: tokens[tokens.count - 1].location)
    }
}
