import Foundation

// The JSON gateway's messages: etcd's protobuf messages in JSON, keys and
// values in base64, 64-bit integers as strings, fields at their default
// value left out.

struct ResponseHeader: Decodable {
    var revision: String?
    var revisionValue: Int64 { revision.flatMap(Int64.init) ?? 0 }
}

struct RangeRequest: Encodable {
    var key: String
    var range_end: String?
    var limit: String?
    var revision: String?
}

struct PutRequest: Encodable {
    var key: String
    var value: String
}

struct RawKeyValue: Decodable {
    var key: String
    var value: String?
    var mod_revision: String?
    var create_revision: String?

    func decoded() throws(EtcdError) -> EtcdKeyValue {
        guard let keyData = Data(base64Encoded: key), let valueData = Data(base64Encoded: value ?? "") else {
            throw EtcdError.protocolError("a key or value that is not base64")
        }
        return EtcdKeyValue(
            key: String(decoding: keyData, as: UTF8.self), value: String(decoding: valueData, as: UTF8.self),
            modRevision: mod_revision.flatMap(Int64.init) ?? 0, createRevision: create_revision.flatMap(Int64.init) ?? 0)
    }
}

struct RangeReply: Decodable {
    var header: ResponseHeader
    var kvs: [RawKeyValue]?
    var more: Bool?
}

struct HeaderReply: Decodable {
    var header: ResponseHeader
}

struct DeleteReply: Decodable {
    var header: ResponseHeader
    var deleted: String?
}

struct TxnRequest: Encodable {
    struct Compare: Encodable {
        var key: String
        var target: String
        var result: String
        var mod_revision: String
    }
    struct Operation: Encodable {
        var request_put: PutRequest?
        var request_delete_range: RangeRequest?
    }
    var compare: [Compare]
    var success: [Operation]
}

struct TxnReply: Decodable {
    var header: ResponseHeader
    var succeeded: Bool?
}

struct WatchCreate: Encodable {
    struct Create: Encodable {
        var key: String
        var range_end: String
        var start_revision: String
    }
    var create_request: Create
}

struct WatchMessage: Decodable {
    struct Result: Decodable {
        var header: ResponseHeader?
        var events: [RawEvent]?
        var compact_revision: String?
        var canceled: Bool?
    }
    struct Failure: Decodable {
        var message: String?
    }
    var result: Result?
    var error: Failure?
}

struct RawEvent: Decodable {
    var type: String?
    var kv: RawKeyValue

    func decoded() throws(EtcdError) -> EtcdEvent {
        let kv = try kv.decoded()
        return type == "DELETE" ? .delete(key: kv.key, modRevision: kv.modRevision) : .put(kv)
    }
}

struct GatewayError: Decodable {
    var message: String?
    var error: String?
}
