/// One row of an answer table: a question and the reply it must get,
/// each record in zone-file form.
public struct ExpectedAnswer: Sendable, CustomStringConvertible {
    public var name: String
    public var type: String
    public var rcode: String
    public var answer: [String] = []
    public var authority: [String] = []
    public var additional: [String] = []

    public var description: String { "\(name) \(type)" }

    /// Parses the table format of answers.txt.
    public static func parse(_ text: String) throws -> [ExpectedAnswer] {
        var rows: [ExpectedAnswer] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            if fields.isEmpty || fields[0].hasPrefix("#") { continue }
            if !line.first!.isWhitespace {
                guard fields.count == 3 else { throw TableError(line: number + 1, text: String(line)) }
                rows.append(ExpectedAnswer(name: fields[0], type: fields[1], rcode: fields[2]))
                continue
            }
            guard !rows.isEmpty, fields.count > 1 else { throw TableError(line: number + 1, text: String(line)) }
            let record = normalize(fields.dropFirst().joined(separator: " "))
            switch fields[0] {
            case "an": rows[rows.count - 1].answer.append(record)
            case "ns": rows[rows.count - 1].authority.append(record)
            case "ar": rows[rows.count - 1].additional.append(record)
            default: throw TableError(line: number + 1, text: String(line))
            }
        }
        return rows
    }

    /// One space between fields, lower case, and any SOA serial as SERIAL:
    /// the form both sides of a comparison are put in.
    public static func normalize(_ record: String) -> String {
        var fields = record.split(whereSeparator: \.isWhitespace).map { $0.lowercased() }
        if fields.count == 11, fields[3] == "soa" { fields[6] = "serial" }
        return fields.joined(separator: " ")
    }

    public struct TableError: Error, CustomStringConvertible {
        var line: Int
        var text: String
        public var description: String { "answers table line \(line): cannot read \"\(text)\"" }
    }
}
