import Corefile

#if canImport(Glibc)
    import Glibc
#endif

/// Files in memory, for `import`: globs matched with fnmatch(3) as glob(3) does.
struct MemoryFiles: CorefileFiles {
    var files: [String: String]

    func read(_ path: String) -> String? { files[path] }

    func glob(_ pattern: String) -> [String] {
        files.keys.filter { fnmatch(pattern, $0, FNM_PATHNAME) == 0 }.sorted()
    }
}
