import ArgumentParser
import DataPlane

// The `kube-dns` executable: parse the command line, run the command.
// The async command is run by name: with this toolchain both ArgumentParser's
// async entry point and a call to `run()` pick the synchronous default
// `run()`, which only prints the help.
// First, on the main thread alone: capabilities are per thread, and the
// threads made later inherit them from it.
BindCapability.raise()
DNSServer.tuneMalloc()
Signals.prepare()
let arguments = ArgumentSpelling.normalize(Array(CommandLine.arguments.dropFirst()))
do {
    var command = try KubeDNSCommand.parseAsRoot(arguments)
    if let serve = command as? ServeCommand {
        try await serve.serve()
    } else if let skydns = command as? SkyDNSCommand {
        try await skydns.serve()
    } else if let kube2sky = command as? Kube2SkyCommand {
        try await kube2sky.serve()
    } else if let exechealthz = command as? ExecHealthzCommand {
        try await exechealthz.serve()
    } else if let nodeCache = command as? NodeCacheCommand {
        try await nodeCache.serve()
    } else {
        try command.run()
    }
} catch {
    KubeDNSCommand.exit(withError: error)
}
