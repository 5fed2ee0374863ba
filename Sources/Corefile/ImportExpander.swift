import Foundation

/// Replaces each `import` line with what it names, as the import plugin
/// does (coredns.io/plugins/import): a snippet defined earlier at the top
/// level as `(name) { ... }`, a file, or the files a glob matches (none is
/// not an error; a missing file is). Paths are relative to the directory
/// of the file that imports them. Arguments after the pattern replace
/// `{args[0]}`, `{args[1]}`... in what is imported.
///
/// Every token also gets its line number in the expanded stream
/// (`lineID`), so that a snippet imported twice in a row is two lines.
struct ImportExpander {
    let files: any CorefileFiles
    let environment: [String: String]
    private var snippets: [String: [CorefileToken]] = [:]
    private var nextLine = 0

    init(files: any CorefileFiles, environment: [String: String]) {
        self.files = files
        self.environment = environment
    }

    /// The tokens of the Corefile at `path`, imports expanded.
    mutating func expand(file path: String, text: String) throws(CorefileError) -> [CorefileToken] {
        try expand(tokens(of: text, file: path), importing: [path], depth: 0, topLevel: true)
    }

    /// A file's tokens, environment variables substituted.
    private func tokens(of text: String, file: String) throws(CorefileError) -> [CorefileToken] {
        try CorefileLexer.tokens(of: text, file: file).map { token in
            var token = token
            token.text = EnvironmentSubstitution.apply(token.text, environment)
            return token
        }
    }

    private mutating func expand(
        _ tokens: [CorefileToken], importing chain: [String], depth: Int, topLevel: Bool
    ) throws(CorefileError) -> [CorefileToken] {
        var out: [CorefileToken] = []
        var braces = 0
        var index = 0
        var lastLocation: CorefileLocation?
        while index < tokens.count {
            let token = tokens[index]
            let startsLine = lastLocation != token.location
            if startsLine { nextLine += 1 }
            lastLocation = token.location
            if topLevel, braces == 0, startsLine, let name = snippetName(token), index + 1 < tokens.count, tokens[index + 1].opensBlock {
                let (body, end) = try block(tokens, from: index + 1)
                snippets[name] = body
                index = end
                lastLocation = nil
                continue
            }
            if startsLine, !token.quoted, token.text == "import" {
                var arguments: [String] = []
                index += 1
                while index < tokens.count, tokens[index].location == token.location {
                    arguments.append(tokens[index].text)
                    index += 1
                }
                out += try imported(arguments, at: token.location, chain: chain, depth: depth)
                lastLocation = nil
                continue
            }
            if token.opensBlock { braces += 1 }
            if token.closesBlock { braces -= 1 }
            var numbered = token
            numbered.lineID = nextLine
            out.append(numbered)
            index += 1
        }
        return out
    }

    /// `(name)`, a snippet's label.
    private func snippetName(_ token: CorefileToken) -> String? {
        guard !token.quoted, token.text.count > 2, token.text.hasPrefix("("), token.text.hasSuffix(")") else { return nil }
        return String(token.text.dropFirst().dropLast())
    }

    /// The tokens inside the braces that open at `open`, and the index past the closing one.
    private func block(_ tokens: [CorefileToken], from open: Int) throws(CorefileError) -> ([CorefileToken], Int) {
        var depth = 0
        for index in open..<tokens.count {
            if tokens[index].opensBlock { depth += 1 }
            if tokens[index].closesBlock {
                depth -= 1
                if depth == 0 { return (Array(tokens[(open + 1)..<index]), index + 1) }
            }
        }
        throw CorefileError("Unexpected EOF: a block is not closed", at: tokens[open].location)
    }

    private mutating func imported(
        _ arguments: [String], at location: CorefileLocation, chain: [String], depth: Int
    ) throws(CorefileError) -> [CorefileToken] {
        guard let pattern = arguments.first else { throw CorefileError("import needs a file, a glob or a snippet", at: location) }
        guard depth < 32 else {
            throw CorefileError("import \(pattern): imports nested too deep (a snippet importing itself?)", at: location)
        }
        let parameters = Array(arguments.dropFirst())
        if let snippet = snippets[pattern] {
            return try expand(substituted(snippet, parameters), importing: chain, depth: depth + 1, topLevel: false)
        }
        let path = Self.resolve(pattern, from: location.file)
        let paths = pattern.contains(where: { "*?[".contains($0) }) ? files.glob(path) : [path]
        var out: [CorefileToken] = []
        for path in paths {
            guard !chain.contains(path) else {
                throw CorefileError("import \(pattern): import cycle (\((chain + [path]).joined(separator: " imports ")))", at: location)
            }
            guard let text = files.read(path) else {
                throw CorefileError("Could not import \(pattern): no such file or snippet", at: location)
            }
            out += try expand(
                substituted(tokens(of: text, file: path), parameters), importing: chain + [path], depth: depth + 1, topLevel: true)
        }
        return out
    }

    private func substituted(_ tokens: [CorefileToken], _ parameters: [String]) -> [CorefileToken] {
        guard !parameters.isEmpty else { return tokens }
        return tokens.map { token in
            var token = token
            for (index, value) in parameters.enumerated() {
                token.text = token.text.replacingOccurrences(of: "{args[\(index)]}", with: value)
            }
            return token
        }
    }

    /// `pattern` relative to the directory of `file`, unless it is absolute.
    static func resolve(_ pattern: String, from file: String) -> String {
        guard !pattern.hasPrefix("/"), let slash = file.lastIndex(of: "/") else { return pattern }
        return String(file[...slash]) + pattern
    }
}
