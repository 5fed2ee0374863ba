import DNSModel
import Foundation
import JSONDecoding
import RecordModel
import Yams

/// A static cluster in a file (`--kube-objects`): YAML, one or more
/// documents, or JSON; each document an object or a `List` of them.
public enum ObjectsFile {
    /// The largest file read: a cluster of 100,000 Services is about 60 MB of YAML.
    public static let maximumBytes = 512 << 20

    /// Reads and decodes the file.
    public static func load(_ path: String) throws(ObjectsFileError) -> ClusterObjects {
        try parse(try contents(path), path: path)
    }

    /// The file's bytes; a directory, a device or a file past
    /// `maximumBytes` is an error that says so.
    private static func contents(_ path: String) throws(ObjectsFileError) -> Data {
        func failure(_ what: String) -> ObjectsFileError {
            ObjectsFileError(path: path, reason: "cannot read: \(what)")
        }
        // Opened by hand for errno's words (Foundation's are "error 256").
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(String(cString: strerror(errno))) }
        let file = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure(String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw failure("not a regular file") }
        guard info.st_size <= maximumBytes else { throw failure("\(info.st_size) bytes; at most \(maximumBytes)") }
        do {
            // A file growing while it is read is read up to its size when opened.
            return try file.read(upToCount: Int(info.st_size)) ?? Data()
        } catch {
            throw failure("\(error)")
        }
    }

    /// Decodes file contents; `path` names the file in errors.
    public static func parse(_ data: Data, path: String) throws(ObjectsFileError) -> ClusterObjects {
        var objects = ClusterObjects()
        do {
            for document in try documents(data) { objects.add(document) }
        } catch let error as ObjectsFileError {
            throw ObjectsFileError(path: path, reason: error.reason)
        } catch {
            throw ObjectsFileError(path: path, reason: describe(error).excerpt(240))
        }
        return objects
    }

    private static func documents(_ data: Data) throws -> [KubeDocument] {
        let first = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            // JSON: read as it is, much faster than through YAML.
            if first == UInt8(ascii: "[") { return try JSONNode.decode([KubeDocument].self, from: data) }
            return [try JSONNode.decode(KubeDocument.self, from: data)]
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ObjectsFileError(path: "", reason: "not UTF-8 text")
        }
        // Parser.nextRoot throws on a syntax error; Yams' compose_all
        // would end the sequence there silently, losing the rest.
        let parser = try Parser(yaml: text)
        var documents: [KubeDocument] = []
        // Written out as JSON, a document is about as long as its YAML; aliases
        // may make it longer, but not without bound.
        let limit = 4 * data.count + (1 << 20)
        while let node = try parser.nextRoot() {
            documents.append(try JSONNode.decode(KubeDocument.self, from: node.jsonText(limit: limit)))
        }
        return documents
    }

    /// A one-line reason, with the path to the offending field.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else {
            // YAML errors span lines (the text and a caret under it): keep one.
            return "\(error)".split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0 != "^" }.joined(separator: " ")
        }
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): required field missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type), found null"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

public struct ObjectsFileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}
