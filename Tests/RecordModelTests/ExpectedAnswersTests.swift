import ObjectSources
import RecordModel
import TestSupport
import Testing

/// The answer table (answers.txt) against the record model alone.
@Suite struct ExpectedAnswersTests {
    static let rows = (try? Fixtures.expectedAnswers()) ?? []

    @Test func theTableIsRead() {
        #expect(Self.rows.count > 50)
    }

    @Test(arguments: rows)
    func answer(_ row: ExpectedAnswer) throws {
        let objects = try ObjectsFile.load(Fixtures.clusterPath)
        let zones = ClusterRecords.zones(for: objects, options: RecordOptions(domain: try DNSName("cluster.local")))
        let answer = zones.answer(try DNSName(row.name), try #require(RecordType(row.type)))
        #expect(answer.rcode.description == row.rcode)
        #expect(answer.answer.map { ExpectedAnswer.normalize($0.description) }.sorted() == row.answer.sorted())
        #expect(answer.authority.map { ExpectedAnswer.normalize($0.description) }.sorted() == row.authority.sorted())
        #expect(answer.additional.map { ExpectedAnswer.normalize($0.description) }.sorted() == row.additional.sorted())
    }
}
