import CDataPlane
import DNSModel
import Dispatch
import Synchronization

/// A data-plane answer table built from a zone set: every answer
/// precomputed as wire data (see dataplane.h). Owned until published.
public struct AnswerTable: ~Copyable {
    private var pointer: OpaquePointer?

    public let nameCount: Int
    public let answerCount: Int
    /// Bytes of names, answers and slots.
    public let byteCount: Int

    /// Builds the table of `contents`: its zones, the pod rule, and for
    /// every name its answers by type plus its default answer. Two threads
    /// take the parts in turn, each into its own builder, and the table's
    /// shards are laid out from both.
    public init(_ contents: some TableContents) throws(DataPlaneError) {
        let heads = contents.heads
        let threads = heads.unsynced ? 1 : min(2, max(1, contents.partCount))
        let builders = (0..<threads).map { _ in BuilderHandle(pointer: dp_table_builder_new()) }
        guard builders.allSatisfy({ $0.pointer != nil }) else {
            for builder in builders { dp_table_builder_free(builder.pointer) }
            throw DataPlaneError("out of memory")
        }
        let taken = Atomic<Int>(0)
        let failures = Mutex<[DataPlaneError]>([])
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            do {
                var writer = AnswerWriter(builder: builders[thread].pointer!)
                try writer.addZones(heads)
                guard !heads.unsynced else { return }
                while true {
                    let part = taken.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard part < contents.partCount else { break }
                    try contents.forEachName(inPart: part) { names throws(DataPlaneError) in
                        for name in names.names { try writer.addAnswers(of: name, in: names.zone) }
                    } pointers: { pointer throws(DataPlaneError) in
                        try writer.addAnswers(of: pointer)
                    }
                }
            } catch let error as DataPlaneError {
                failures.withLock { $0.append(error) }
            } catch {
                failures.withLock { $0.append(DataPlaneError("\(error)")) }
            }
        }
        if let failure = failures.withLock({ $0.first }) {
            for builder in builders { dp_table_builder_free(builder.pointer) }
            throw failure
        }
        var err = [CChar](repeating: 0, count: 512)
        var pointers = builders.map(\.pointer)
        guard let table = dp_table_builders_finish(&pointers, pointers.count, &err, err.count) else {
            throw DataPlaneError(err)
        }
        self.init(finished: table)
    }

    /// The table after `base` with `changes` made: their names answered
    /// again, the names gone dropped; every other name keeps its answers
    /// from `base`, whose unchanged shards the new table shares.
    init(_ heads: ZoneSet, changes: ZoneChanges, base: OpaquePointer) throws(DataPlaneError) {
        guard let builder = dp_table_builder_new_delta(base) else { throw DataPlaneError("out of memory") }
        try self.init(builder) { builder throws(DataPlaneError) in
            var writer = AnswerWriter(builder: builder)
            try writer.addZones(heads)
            for name in changes.removed { try writer.remove(name) }
            for answered in changes.answered {
                for name in answered.names { try writer.addAnswers(of: name, in: answered.zone) }
            }
        }
    }

    private init(_ builder: OpaquePointer, fill: (OpaquePointer) throws(DataPlaneError) -> Void) throws(DataPlaneError) {
        do {
            try fill(builder)
        } catch {
            dp_table_builder_free(builder)
            throw error
        }
        var err = [CChar](repeating: 0, count: 512)
        guard let table = dp_table_builder_finish(builder, &err, err.count) else {
            throw DataPlaneError(err)
        }
        self.init(finished: table)
    }

    private init(finished table: OpaquePointer) {
        pointer = table
        nameCount = dp_table_name_count(table)
        answerCount = dp_table_answer_count(table)
        byteCount = dp_table_bytes(table)
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

/// A C table builder handed to one thread of a parallel build. Each is
/// filled by exactly one thread, and laid out only after every thread has
/// finished, so sending it is safe.
private struct BuilderHandle: @unchecked Sendable {
    let pointer: OpaquePointer?
}

/// Writes answers into a C table builder, reusing its buffers.
private struct AnswerWriter {
    let builder: OpaquePointer
    private var rrs: [UInt8] = []
    private var targets: [UInt8] = []
    private var err = [CChar](repeating: 0, count: 512)

    init(builder: OpaquePointer) {
        self.builder = builder
        rrs.reserveCapacity(4096)
        targets.reserveCapacity(1024)
    }

    /// Each zone with its SOA, the pod rule, and whether the table is loaded.
    mutating func addZones(_ zones: ZoneSet) throws(DataPlaneError) {
        if zones.unsynced { dp_table_builder_mark_unsynced(builder) }
        for zone in zones.zones {
            var soa: [UInt8] = []
            zone.soa.appendWire(to: &soa)
            let apex = zone.apex.wire
            guard
                dp_table_builder_add_zone(
                    builder, apex, apex.count, zone.isInternal ? DP_ZONE_INTERNAL : zone.authoritative ? 1 : 0, soa, soa.count, &err,
                    err.count) == 0
            else { throw DataPlaneError(err) }
        }
        if let pods = zones.podSynthesis {
            let suffix = pods.suffix.wire
            guard dp_table_builder_add_pod_synthesis(builder, suffix, suffix.count, pods.ttl, &err, err.count) == 0
            else { throw DataPlaneError(err) }
        }
    }

    /// A name's answer for each type it has one for, its default answer,
    /// and which of them ANY gets.
    mutating func addAnswers(of name: DNSName, in zone: Zone) throws(DataPlaneError) {
        guard let answers = zone.answers(for: name) else { return }
        let wire = name.wire
        if try addAddresses(of: name, wire, answers) { return }
        for (type, answer) in answers.byType { try add(wire, type.rawValue, answer) }
        try addDefault(wire, answers.otherTypes, any: answers.any)
    }

    /// A PTR name, its records written by the data plane from the targets.
    mutating func addAnswers(of pointer: PointerName) throws(DataPlaneError) {
        let name = pointer.name.wire
        targets.removeAll(keepingCapacity: true)
        for target in pointer.targets { targets += target.wire }
        let status = dp_table_builder_add_ptr_records(builder, name, name.count, targets, targets.count, pointer.ttl, &err, err.count)
        guard status == 0 else { throw DataPlaneError(err) }
    }

    /// A name whose only records are one A or AAAA RRset of its own (a
    /// Service's cluster IP, an endpoint's hostname, a headless Service),
    /// handed over as its addresses: the data plane writes the reply per
    /// query, as it would have kept it. False when the name has more.
    private mutating func addAddresses(of name: DNSName, _ wire: [UInt8], _ answers: Zone.NameAnswers) throws(DataPlaneError) -> Bool {
        guard answers.byType.count == 1, answers.otherTypes == nil, let (type, answer) = answers.byType.first,
            type == .a || type == .aaaa, answers.any == type, answer.rcode == .noError,
            answer.authority.isEmpty, answer.additional.isEmpty, let ttl = answer.answer.first?.ttl
        else { return false }
        rrs.removeAll(keepingCapacity: true)
        for record in answer.answer {
            guard record.ttl == ttl, record.type == type, record.name == name, case .address(let ip) = record.data
            else { return false }
            switch ip {
            case .v4(let a, let b, let c, let d):
                rrs.append(a)
                rrs.append(b)
                rrs.append(c)
                rrs.append(d)
            case .v6(let bytes): rrs += bytes
            }
        }
        let status = dp_table_builder_add_address_records(
            builder, wire, wire.count, type.rawValue, rrs, answer.answer.count, ttl, &err, err.count)
        guard status == 0 else { throw DataPlaneError(err) }
        return true
    }

    /// The answer for types without one of their own (nil: NODATA, which
    /// the table keeps as no answer at all), and the type whose answer ANY gets.
    private mutating func addDefault(_ wire: [UInt8], _ answer: Answer?, any: RecordType?) throws(DataPlaneError) {
        if let answer {
            try add(wire, 0, answer)
        } else {
            guard dp_table_builder_add_name(builder, wire, wire.count, &err, err.count) == 0
            else { throw DataPlaneError(err) }
        }
        if let any {
            guard dp_table_builder_answer_any_as(builder, wire, wire.count, any.rawValue, &err, err.count) == 0
            else { throw DataPlaneError(err) }
        }
    }

    mutating func remove(_ name: DNSName) throws(DataPlaneError) {
        let wire = name.wire
        guard dp_table_builder_remove_name(builder, wire, wire.count, &err, err.count) == 0 else { throw DataPlaneError(err) }
    }

    private mutating func add(_ name: [UInt8], _ type: UInt16, _ answer: Answer) throws(DataPlaneError) {
        rrs.removeAll(keepingCapacity: true)
        for record in answer.answer { record.appendWire(to: &rrs) }
        for record in answer.authority { record.appendWire(to: &rrs) }
        for record in answer.additional { record.appendWire(to: &rrs) }
        let status = dp_table_builder_add_answer(
            builder, name, name.count, type, answer.rcode.rawValue, rrs, rrs.count,
            UInt16(answer.answer.count), UInt16(answer.authority.count), UInt16(answer.additional.count),
            &err, err.count)
        guard status == 0 else { throw DataPlaneError(err) }
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
