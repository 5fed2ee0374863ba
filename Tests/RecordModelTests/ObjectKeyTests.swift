import RecordModel
import Testing

@Suite struct ObjectKeyTests {
    static let parts = [
        ("default", "kubernetes"), ("", "kube-system"), ("a-very-long-namespace-name", "a-very-long-service-name"),
        ("a/b", "c"), ("a", "b/c"), ("a%2Fb", "c"), ("%", "/"), ("", ""),
    ]

    @Test(arguments: parts) func givesBackItsNamespaceAndName(namespace: String, name: String) {
        let key = ObjectKey(namespace: namespace, name: name)
        #expect(key.namespace == namespace)
        #expect(key.name == name)
        #expect(key.description == (namespace.isEmpty ? name : "\(namespace)/\(name)"))
    }

    @Test func differentPartsAreDifferentKeys() {
        let keys = Self.parts.map { ObjectKey(namespace: $0.0, name: $0.1) }
        #expect(Set(keys).count == keys.count)
        #expect(ObjectKey(namespace: "a", name: "b") == ObjectKey(namespace: "a", name: "b"))
    }

    @Test func keysSortByNamespaceThenName() {
        let keys = [("a-b", "x"), ("a", "y"), ("a", "x"), ("", "z")].map { ObjectKey(namespace: $0.0, name: $0.1) }
        #expect(keys.sorted().map(\.description) == ["z", "a/x", "a/y", "a-b/x"])
    }
}
