import Foundation
import Testing

@testable import KubeAPI

/// Kubeconfig and in-cluster access, as client-go reads them.
@Suite struct KubeconfigTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func config(cluster: String, user: String, context: String = "ctx") -> String {
        """
        apiVersion: v1
        kind: Config
        current-context: \(context)
        clusters:
        - name: c
          cluster:
        \(cluster.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        contexts:
        - name: ctx
          context: {cluster: c, user: u}
        users:
        - name: u
          user:
        \(user.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    @Test func tokenAndInlineCA() throws {
        let ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        let path = try write(
            "config",
            config(
                cluster: "server: https://10.0.0.1:6443\ncertificate-authority-data: \(Data(ca.utf8).base64EncodedString())",
                user: "token: abc123"))
        let access = try ClusterAccess.kubeconfig(path: path)
        #expect(access.server.absoluteString == "https://10.0.0.1:6443")
        #expect(access.certificateAuthority == Data(ca.utf8))
        #expect(access.credentials == .token("abc123"))
        #expect(try access.authorization() == "Bearer abc123")
    }

    @Test func filesAreRelativeToTheKubeconfigAndTheTokenFileIsReadEachTime() throws {
        _ = try write("ca.crt", "CA")
        let token = try write("token", "first\n")
        let path = try write(
            "config", config(cluster: "server: https://api.example:443\ncertificate-authority: ca.crt", user: "tokenFile: token"))
        let access = try ClusterAccess.kubeconfig(path: path)
        #expect(access.certificateAuthority == Data("CA".utf8))
        #expect(access.credentials == .tokenFile(token))
        #expect(try access.authorization() == "Bearer first")
        try "second".write(toFile: token, atomically: true, encoding: .utf8)
        #expect(try access.authorization() == "Bearer second")
    }

    @Test func clientCertificateData() throws {
        let path = try write(
            "config",
            config(
                cluster: "server: https://127.0.0.1:6443\ninsecure-skip-tls-verify: true",
                user:
                    "client-certificate-data: \(Data("CERT".utf8).base64EncodedString())\nclient-key-data: \(Data("KEY".utf8).base64EncodedString())"
            ))
        let access = try ClusterAccess.kubeconfig(path: path)
        #expect(access.clientCertificate == Data("CERT".utf8))
        #expect(access.clientKey == Data("KEY".utf8))
        #expect(access.insecureSkipTLSVerify)
        #expect(access.credentials == .none)
    }

    @Test func masterURLReplacesTheServer() throws {
        let path = try write("config", config(cluster: "server: https://10.0.0.1:6443", user: "token: t"))
        let access = try ClusterAccess.kubeconfig(path: path, server: "http://127.0.0.1:8080")
        #expect(access.server.absoluteString == "http://127.0.0.1:8080")
        #expect(access.credentials == .token("t"))
    }

    @Test(arguments: [
        ("clusters: [", "not valid YAML"),
        ("kind: Config\nclusters: []\n", "no current-context"),
        ("current-context: nope\ncontexts: []\n", "\"nope\" is not among its contexts"),
        ("current-context: x\ncontexts:\n- name: x\n  context: {cluster: gone}\n", "cluster \"gone\" is not among its clusters"),
        (
            "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n- name: c\n  cluster: {server: 'not a url'}\n",
            "is not an http"
        ),
        (
            "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n- name: c\n  cluster: {server: 'https://a', certificate-authority-data: '***'}\n",
            "certificate-authority-data is not base64"
        ),
        (
            "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: 'https://a'}\nusers:\n- name: u\n  user: {client-certificate-data: QQ==}\n",
            "needs its client key"
        ),
        ("clusters: 7\n", "clusters: expected"),
    ])
    func brokenKubeconfigsAreOneLineErrors(_ text: String, _ expected: String) throws {
        let path = try write("config", text)
        do {
            _ = try ClusterAccess.kubeconfig(path: path)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.hasPrefix("kubeconfig \(path): "), "\(error)")
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func inClusterReadsTheServiceAccount() throws {
        _ = try write("token", "sa-token")
        _ = try write("ca.crt", "CA")
        let access = try ClusterAccess.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], directory: directory)
        #expect(access.server.absoluteString == "https://[fd00::1]:443")
        #expect(access.credentials == .tokenFile(directory + "/token"))
        #expect(try access.authorization() == "Bearer sa-token")
        #expect(access.certificateAuthority == Data("CA".utf8))
    }

    @Test func outsideAClusterSaysWhatToGive() {
        #expect(throws: AccessError.self) { try ClusterAccess.inCluster(environment: [:], directory: directory) }
        do {
            _ = try ClusterAccess.inCluster(environment: [:], directory: directory)
        } catch {
            #expect(error.description.contains("--kube-master-url"))
        }
    }

    @Test func backoffDoublesToItsCapWithJitter() {
        var backoff = Backoff()
        var random = SystemRandomNumberGenerator()
        let bases: [Double] = [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30, 30]
        for base in bases {
            let wait = backoff.next(using: &random)
            #expect(wait >= .milliseconds(Int(base * 1000)) && wait < .milliseconds(Int(base * 2000)), "\(wait) for \(base)")
        }
        backoff.reset()
        #expect(backoff.next(using: &random) < .milliseconds(1600))
    }

    /// A watch that failed after more than a second counted as having
    /// worked: an API server answering 500 after 1.5 s got a request every
    /// 1.5 s from each replica, forever.
    @Test func backoffStartsOverOnlyAfterTwoMinutesWithoutAFailure() {
        var backoff = Backoff()
        var random = SystemRandomNumberGenerator()
        var failed = ContinuousClock.now
        var wait = Duration.zero
        for _ in 0..<8 {
            wait = backoff.next(at: failed, using: &random)
            failed += wait + .milliseconds(1500)
        }
        #expect(wait >= .seconds(30))
        // The last failure was at failed - wait - 1.5 s.
        failed -= wait + .milliseconds(1500)
        #expect(backoff.next(at: failed + .seconds(119), using: &random) >= .seconds(30))
        #expect(backoff.next(at: failed + .seconds(119 + 121), using: &random) < .milliseconds(1600))
    }
}
