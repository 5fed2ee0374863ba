import Foundation

/// The fixture cluster and the answers DNS must give for it.
public enum Fixtures {
    static var directory: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    /// The objects file of the fixture cluster.
    public static var clusterPath: String { directory.appendingPathComponent("cluster.yaml").path }

    /// The table of expected answers (answers.txt).
    public static func expectedAnswers() throws -> [ExpectedAnswer] {
        try ExpectedAnswer.parse(String(contentsOf: directory.appendingPathComponent("answers.txt"), encoding: .utf8))
    }
}
