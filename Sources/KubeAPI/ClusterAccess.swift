import Foundation

/// How to reach one Kubernetes API server: where it is, what TLS to trust
/// and present, and which credentials to send.
public struct ClusterAccess: Sendable, Equatable {
    /// The server, as `scheme://host:port` with an optional path prefix.
    public var server: URL
    /// PEM certificates that sign the server's certificate; nil trusts the system roots.
    public var certificateAuthority: Data?
    /// A PEM client certificate chain and its PEM private key.
    public var clientCertificate: Data?
    public var clientKey: Data?
    public var insecureSkipTLSVerify = false
    public var credentials: Credentials = .none

    public enum Credentials: Sendable, Equatable {
        case none
        case token(String)
        /// Read before every request, so a rotated token is picked up.
        case tokenFile(String)
        case basic(username: String, password: String)
    }

    public init(server: URL) { self.server = server }

    /// `--kube-master-url`: plain HTTP(S), no credentials (kube2sky's flag).
    public static func masterURL(_ text: String) throws(AccessError) -> ClusterAccess {
        ClusterAccess(server: try serverURL(text, source: "--kube-master-url"))
    }

    static func serverURL(_ text: String, source: String) throws(AccessError) -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host != nil
        else { throw AccessError("\(source): \(text.isEmpty ? "empty" : "\"\(text)\"") is not an http:// or https:// URL") }
        return url
    }

    /// The value of the Authorization header, read now.
    func authorization() throws(AccessError) -> String? {
        switch credentials {
        case .none: return nil
        case .token(let token): return "Bearer \(token)"
        case .tokenFile(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw AccessError("token file \(path): cannot be read")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw AccessError("token file \(path): empty") }
            return "Bearer \(token)"
        case .basic(let user, let password):
            return "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
    }
}

/// Why the API server cannot be reached as configured, in one line.
public struct AccessError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
