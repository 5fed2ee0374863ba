import Foundation

/// A CA, a server certificate for 127.0.0.1 and dns.test, and a client certificate,
/// made by the real openssl in a fresh temporary directory.
public struct TestCertificates: Sendable {
    public let directory: String
    public var caPath: String { directory + "/ca.pem" }
    public var serverCertificatePath: String { directory + "/server.pem" }
    public var serverKeyPath: String { directory + "/server.key" }
    public var clientCertificatePath: String { directory + "/client.pem" }
    public var clientKeyPath: String { directory + "/client.key" }

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("certs-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=test-ca", "-keyout", directory + "/ca.key", "-out", caPath,
        ])
        try issue(
            "server", subject: "/CN=127.0.0.1", extensions: "subjectAltName=IP:127.0.0.1,DNS:dns.test\nextendedKeyUsage=serverAuth\n")
        try issue("client", subject: "/CN=kube-dns/O=system:kube-dns", extensions: "extendedKeyUsage=clientAuth\n")
    }

    private func issue(_ name: String, subject: String, extensions: String) throws {
        let key = "\(directory)/\(name).key"
        let request = "\(directory)/\(name).csr"
        let extensionsFile = "\(directory)/\(name).ext"
        try extensions.write(toFile: extensionsFile, atomically: true, encoding: .utf8)
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject,
            "-keyout", key, "-out", request,
        ])
        try openssl([
            "x509", "-req", "-in", request, "-CA", caPath, "-CAkey", directory + "/ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", extensionsFile, "-out", "\(directory)/\(name).pem",
        ])
    }

    private func openssl(_ arguments: [String]) throws {
        let result = try runToEnd("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw CertificateError(description: result.stderr) }
    }

    public func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    public func remove() { try? FileManager.default.removeItem(atPath: directory) }

    public struct CertificateError: Error, CustomStringConvertible {
        public let description: String
    }
}
