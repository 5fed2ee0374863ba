import Foundation
import Yams

/// The parts of a kubeconfig file (clientcmd's `Config`, v1) that reach a
/// server: the current context's cluster and user.
struct Kubeconfig: Decodable {
    var currentContext: String?
    var clusters: [Named<Cluster>]?
    var contexts: [Named<Context>]?
    var users: [Named<User>]?

    enum CodingKeys: String, CodingKey {
        case currentContext = "current-context"
        case clusters, contexts, users
    }

    struct Named<Value: Decodable>: Decodable {
        var name: String
        var value: Value?

        enum CodingKeys: String, CodingKey { case name, cluster, context, user }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            let key: CodingKeys =
                Value.self == Cluster.self ? .cluster : Value.self == Context.self ? .context : .user
            value = try c.decodeIfPresent(Value.self, forKey: key)
        }
    }

    struct Cluster: Decodable {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }

    struct Context: Decodable {
        var cluster: String?
        var user: String?
    }

    struct User: Decodable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var username: String?
        var password: String?

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
        }
    }
}

extension ClusterAccess {
    /// `--kubecfg-file`: the current context of a kubeconfig. Relative
    /// file paths in it are relative to the file, as kubectl reads them;
    /// `server`, when given, replaces the cluster's (`--kube-master-url`).
    /// `context`, when given, is used instead of the current one (CoreDNS's `kubeconfig FILE CONTEXT`).
    public static func kubeconfig(path: String, server: String? = nil, context: String? = nil) throws(AccessError) -> ClusterAccess {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AccessError("kubeconfig \(path): cannot be read")
        }
        let config: Kubeconfig
        do {
            config = try YAMLDecoder().decode(Kubeconfig.self, from: data)
        } catch let error as DecodingError {
            throw AccessError("kubeconfig \(path): \(error.oneLine)")
        } catch {
            throw AccessError("kubeconfig \(path): not YAML: \(String(describing: error).split(separator: "\n").joined(separator: " "))")
        }
        do {
            return try access(
                from: config, directory: (path as NSString).deletingLastPathComponent, server: server, context: context)
        } catch {
            throw AccessError("kubeconfig \(path): \(error)")
        }
    }

    private static func access(from config: Kubeconfig, directory: String, server: String?, context chosen: String?)
        throws(AccessError) -> ClusterAccess
    {
        guard let contextName = chosen ?? config.currentContext, !contextName.isEmpty else {
            throw AccessError("no current-context")
        }
        guard let context = config.contexts?.first(where: { $0.name == contextName })?.value else {
            throw AccessError("\(chosen == nil ? "current-context" : "context") \"\(contextName)\" is not among its contexts")
        }
        guard let clusterName = context.cluster,
            let cluster = config.clusters?.first(where: { $0.name == clusterName })?.value
        else { throw AccessError("context \"\(contextName)\": cluster \"\(context.cluster ?? "")\" is not among its clusters") }

        let serverText = server ?? cluster.server ?? ""
        var access = ClusterAccess(
            server: try serverURL(serverText, source: server == nil ? "cluster \"\(clusterName)\" server" : "--kube-master-url"))
        access.insecureSkipTLSVerify = cluster.insecureSkipTLSVerify ?? false
        access.certificateAuthority = try material(
            file: cluster.certificateAuthority, data: cluster.certificateAuthorityData,
            field: "certificate-authority", directory: directory)

        if let userName = context.user, !userName.isEmpty {
            guard let user = config.users?.first(where: { $0.name == userName })?.value else {
                throw AccessError("context \"\(contextName)\": user \"\(userName)\" is not among its users")
            }
            access.clientCertificate = try material(
                file: user.clientCertificate, data: user.clientCertificateData,
                field: "client-certificate", directory: directory)
            access.clientKey = try material(
                file: user.clientKey, data: user.clientKeyData, field: "client-key", directory: directory)
            guard (access.clientCertificate == nil) == (access.clientKey == nil) else {
                throw AccessError("user \"\(userName)\": a client certificate needs its client key, and a key its certificate")
            }
            if let token = user.token, !token.isEmpty {
                access.credentials = .token(token)
            } else if let file = user.tokenFile, !file.isEmpty {
                access.credentials = .tokenFile(resolve(file, directory))
            } else if let name = user.username, let password = user.password {
                access.credentials = .basic(username: name, password: password)
            }
        }
        return access
    }

    /// A file path or inline base64 data (`<field>-data`, which wins, as in clientcmd).
    private static func material(file: String?, data: String?, field: String, directory: String)
        throws(AccessError) -> Data?
    {
        if let data, !data.isEmpty {
            guard let decoded = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                throw AccessError("\(field)-data is not base64")
            }
            return decoded
        }
        guard let file, !file.isEmpty else { return nil }
        let path = resolve(file, directory)
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw AccessError("\(field) \(path): cannot be read")
        }
        return contents
    }

    private static func resolve(_ path: String, _ directory: String) -> String {
        path.hasPrefix("/") || directory.isEmpty ? path : directory + "/" + path
    }
}

extension DecodingError {
    /// "clusters[0].cluster.server: expected a string", for a log line.
    var oneLine: String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        switch self {
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(_, let context): return "\(path(context.codingPath)): missing value"
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): missing"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? context.debugDescription : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}
