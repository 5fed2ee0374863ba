import Foundation
import JSONDecoding
import RecordModel
import Yams

/// A static cluster in a file (`--kube-objects`): YAML, one or more
/// documents, or JSON; each document an object or a `List` of them.
public enum ObjectsFile {
    /// Reads and decodes the file.
    public static func load(_ path: String) throws(ObjectsFileError) -> ClusterObjects {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ObjectsFileError(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try parse(data, path: path)
    }

    /// Decodes file contents; `path` names the file in errors.
    public static func parse(_ data: Data, path: String) throws(ObjectsFileError) -> ClusterObjects {
        var objects = ClusterObjects()
        do {
            for document in try documents(data) { objects.add(document) }
        } catch let error as ObjectsFileError {
            throw ObjectsFileError(path: path, reason: error.reason)
        } catch {
            throw ObjectsFileError(path: path, reason: describe(error))
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
        while let node = try parser.nextRoot() {
            documents.append(try JSONNode.decode(KubeDocument.self, from: node.jsonText()))
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
