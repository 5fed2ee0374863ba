/// The flag spellings of the programs we replace. kube-dns, kube2sky and
/// skydns parse flags with Go's `flag`/`pflag`, which accept one dash for
/// long flags (`-domain=cluster.local`, `-v=2`); existing manifests use
/// them. Underscore spellings (`--kube_master_url`) are declared as
/// aliases on each option instead.
enum ArgumentSpelling {
    static func normalize(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var passthrough = false
        for argument in arguments {
            if passthrough || argument == "--" {
                passthrough = true
                result.append(argument)
                continue
            }
            result.append(isGoLongFlag(argument) ? "-" + argument : argument)
        }
        return result
    }

    /// `-name...` with a name of two or more characters, or `-v=2`.
    private static func isGoLongFlag(_ argument: String) -> Bool {
        guard argument.hasPrefix("-"), !argument.hasPrefix("--"), argument.count > 1 else { return false }
        let name = argument.dropFirst().prefix { $0 != "=" }
        guard let first = name.first, first.isLetter else { return false }
        return name.count > 1 || argument.contains("=")
    }
}
