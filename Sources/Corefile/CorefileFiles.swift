import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What `import` reads: files by path and glob patterns. The parser takes
/// it as an argument, so that it stays free of I/O and tests can hand it
/// files in memory.
public protocol CorefileFiles: Sendable {
    /// The text of the file at `path`; nil when there is none.
    func read(_ path: String) -> String?
    /// The paths that match `pattern` (`*`, `?`, `[...]`), sorted.
    func glob(_ pattern: String) -> [String]
}

/// The machine's files.
public struct LocalCorefileFiles: CorefileFiles {
    public init() {}

    public func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    public func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard Glibc.glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
