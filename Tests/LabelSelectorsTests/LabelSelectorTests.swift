import LabelSelectors
import Testing

@Suite struct LabelSelectorTests {
    func selects(_ text: String, _ labels: [String: String]) throws -> Bool { try LabelSelector(text).matches(labels) }

    @Test func equalityRequirements() throws {
        #expect(try selects("app=web", ["app": "web"]))
        #expect(try selects("app==web", ["app": "web", "tier": "front"]))
        #expect(try !selects("app=web", ["app": "db"]))
        #expect(try !selects("app=web", [:]))
        #expect(try selects("app!=web", [:]), "a missing label is not equal to anything")
        #expect(try !selects("app!=web", ["app": "web"]))
    }

    @Test func setRequirements() throws {
        #expect(try selects("env in (prod, staging)", ["env": "staging"]))
        #expect(try !selects("env in (prod,staging)", ["env": "dev"]))
        #expect(try selects("env notin (prod)", ["env": "dev"]))
        #expect(try selects("env notin (prod)", [:]))
        #expect(try !selects("env notin (prod,dev)", ["env": "dev"]))
    }

    @Test func existenceAndEveryRequirementAtOnce() throws {
        #expect(try selects("example.com/team", ["example.com/team": ""]))
        #expect(try !selects("!canary", ["canary": "true"]))
        #expect(try selects("app=web, !canary ,env in (a,b)", ["app": "web", "env": "b"]))
        #expect(try !selects("app=web,!canary", ["app": "web", "canary": "1"]))
    }

    @Test func canonicalTextParsesToTheSameSelector() throws {
        let selector = try LabelSelector("app = web,env in (a, b),!x,y!=z")
        #expect(selector.description == "app=web,env in (a,b),!x,y!=z")
        #expect(try LabelSelector(selector.description) == selector)
        #expect(selector.keys == ["app", "env", "x", "y"])
    }

    @Test func badSelectorsSayWhatIsWrong() {
        func failure(_ text: String) -> String {
            do {
                _ = try LabelSelector(text)
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(failure("") == "expected a label key at character 1 of ''")
        #expect(failure("app=web,") == "expected a label key at character 9 of 'app=web,'")
        #expect(failure("env in (a") == "expected ')' to close the set of values at character 10 of 'env in (a'")
        #expect(failure("env in a") == "expected '(' to open a set of values at character 8 of 'env in a'")
        #expect(failure("app > 3") == "expected =, ==, !=, in or notin after 'app' at character 5 of 'app > 3'")
        #expect(failure("-app=web") == "'-app' is not a label key")
        #expect(failure("a/b/c") == "'a/b/c' is not a label key")
        #expect(failure("app=-web") == "'-web' is not a label value")
    }
}
