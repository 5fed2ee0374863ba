import CDataPlane
import RecordModel

/// A data-plane answer table built from a zone set: every answer
/// precomputed as wire data (see dataplane.h). Owned until published.
public struct AnswerTable: ~Copyable {
    private var pointer: OpaquePointer?

    public let nameCount: Int
    public let answerCount: Int

    /// Builds the table: each zone, the pod rule, and for every name its
    /// answers by type plus its default answer.
    public init(_ zones: ZoneSet) throws(DataPlaneError) {
        guard let builder = dp_table_builder_new() else { throw DataPlaneError("out of memory") }
        do {
            try Self.fill(builder, zones)
        } catch {
            dp_table_builder_free(builder)
            throw error
        }
        var err = [CChar](repeating: 0, count: 512)
        guard let table = dp_table_builder_finish(builder, &err, err.count) else {
            throw DataPlaneError(err)
        }
        pointer = table
        nameCount = dp_table_name_count(table)
        answerCount = dp_table_answer_count(table)
    }

    private static func fill(_ builder: OpaquePointer, _ zones: ZoneSet) throws(DataPlaneError) {
        var err = [CChar](repeating: 0, count: 512)
        if zones.unsynced { dp_table_builder_mark_unsynced(builder) }
        for zone in zones.zones {
            var soa: [UInt8] = []
            zone.soa.appendWire(to: &soa)
            let apex = zone.apex.wire
            guard dp_table_builder_add_zone(builder, apex, apex.count, zone.authoritative ? 1 : 0, soa, soa.count, &err, err.count) == 0
            else { throw DataPlaneError(err) }
        }
        if let pods = zones.podSynthesis {
            let suffix = pods.suffix.wire
            guard dp_table_builder_add_pod_synthesis(builder, suffix, suffix.count, pods.ttl, &err, err.count) == 0
            else { throw DataPlaneError(err) }
        }
        guard !zones.unsynced else { return }
        var rrs: [UInt8] = []
        rrs.reserveCapacity(4096)
        for zone in zones.zones {
            for name in zone.names {
                let wire = name.wire
                for type in zone.answerTypes(for: name) {
                    guard let answer = zone.answer(name, type) else { continue }
                    try add(builder, wire, type.rawValue, answer, &rrs, &err)
                }
                let fallback = zone.defaultAnswer(for: name)
                if fallback.isNoData(in: zone) {
                    guard dp_table_builder_add_name(builder, wire, wire.count, &err, err.count) == 0
                    else { throw DataPlaneError(err) }
                } else {
                    try add(builder, wire, 0, fallback, &rrs, &err)
                }
            }
        }
    }

    private static func add(
        _ builder: OpaquePointer, _ name: [UInt8], _ type: UInt16, _ answer: Answer,
        _ rrs: inout [UInt8], _ err: inout [CChar]
    ) throws(DataPlaneError) {
        rrs.removeAll(keepingCapacity: true)
        for record in answer.answer + answer.authority + answer.additional {
            record.appendWire(to: &rrs)
        }
        let status = dp_table_builder_add_answer(
            builder, name, name.count, type, answer.rcode.rawValue, rrs, rrs.count,
            UInt16(answer.answer.count), UInt16(answer.authority.count), UInt16(answer.additional.count),
            &err, err.count)
        guard status == 0 else { throw DataPlaneError(err) }
    }

    /// Hands the table to C; the caller passes it to exactly one C function
    /// that takes ownership.
    consuming func release() -> OpaquePointer {
        let table = pointer!
        pointer = nil
        return table
    }

    deinit {
        if let pointer { dp_table_free(pointer) }
    }
}

extension Answer {
    /// NODATA with the zone's SOA: the data plane makes it from the zone.
    func isNoData(in zone: Zone) -> Bool {
        rcode == .noError && answer.isEmpty && additional.isEmpty && authority == [zone.soa]
    }
}

/// A failure reported by the data plane, with its one-line reason.
public struct DataPlaneError: Error, CustomStringConvertible {
    public let description: String

    init(_ message: String) { description = message }

    init(_ buffer: [CChar]) {
        description = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
