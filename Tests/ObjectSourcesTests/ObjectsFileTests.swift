import Foundation
import ObjectSources
import RecordModel
import Testing

@Suite struct ObjectsFileTests {
    func parse(_ text: String) throws(ObjectsFileError) -> ClusterObjects {
        try ObjectsFile.parse(Data(text.utf8), path: "test.yaml")
    }

    @Test func severalYAMLDocumentsWithUnknownKindsAndFields() throws {
        let objects = try parse(
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: a
              namespace: ns
              uid: 123
              labels: {x: 1, y: true, z: "s", w: [1]}
              annotations: {service.alpha.kubernetes.io/tolerate-unready-endpoints: true, other: x}
            spec: {clusterIP: 10.0.0.1, unknownField: {deep: [1, 2]}}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d, namespace: ns}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            status: {podIP: 10.1.1.1}
            """)
        let service = try #require(objects.services[ObjectKey(namespace: "ns", name: "a")])
        #expect(service.spec.clusterIP == "10.0.0.1")
        // Only what DNS reads is kept; an unquoted `true` still counts.
        #expect(service.metadata.labels == [:])
        #expect(service.metadata.annotations == [Service.tolerateUnreadyAnnotation: "true"])
        #expect(service.publishesNotReady)
        // Namespaced objects without a namespace are in "default", as with kubectl.
        #expect(objects.pods[ObjectKey(namespace: "default", name: "p")] != nil)
    }

    /// YAML is read as kubectl sends it to the API: a quoted scalar is a
    /// string, a plain one what YAML makes of it (`0x50` is 80, a date
    /// stays text), and a string keeps its quotes and tabs.
    @Test func yamlScalarsAreReadAsKubectlReadsThem() throws {
        let objects = try parse(
            """
            kind: Service
            metadata:
              name: "123"
              namespace: ns
              creationTimestamp: 2024-01-01T00:00:00Z
              annotations: {service.alpha.kubernetes.io/tolerate-unready-endpoints: "yes"}
            spec: {clusterIP: 10.0.0.1, ports: [{port: 0x50, name: "a\\"b\\tc"}], externalName: ~}
            """)
        let service = try #require(objects.services[ObjectKey(namespace: "ns", name: "123")])
        #expect(service.ports == [Service.Port(name: "a\"b\tc", port: 80)])
        #expect(service.metadata.annotations == [Service.tolerateUnreadyAnnotation: "yes"])
        #expect(!service.publishesNotReady)
        #expect {
            try parse("kind: Namespace\nmetadata: {name: 123}\n")
        } throws: { error in
            "\(error)".hasPrefix("test.yaml: .metadata.name: expected String")
        }
    }

    @Test func aJSONListAndNestedLists() throws {
        let objects = try parse(
            """
            {"apiVersion": "v1", "kind": "List", "items": [
              {"kind": "Namespace", "metadata": {"name": "ns"}},
              {"kind": "EndpointSlice", "metadata": {"name": "s", "namespace": "ns",
                "labels": {"kubernetes.io/service-name": "svc"}},
               "addressType": "IPv4", "endpoints": null, "ports": null},
              {"kind": "ServiceList", "items": [{"kind": "Service", "metadata": {"name": "svc", "namespace": "ns"},
                "spec": {"clusterIP": "None"}}]}
            ]}
            """)
        #expect(objects.namespaces["ns"] != nil)
        #expect(objects.endpointSlices[ObjectKey(namespace: "ns", name: "s")]?.endpoints == [])
        #expect(objects.endpointSlices[ObjectKey(namespace: "ns", name: "s")]?.serviceKey == ObjectKey(namespace: "ns", name: "svc"))
        #expect(objects.services[ObjectKey(namespace: "ns", name: "svc")]?.isHeadless == true)
    }

    @Test func aMissingFieldNamesItsPath() {
        #expect {
            try parse("kind: List\nitems:\n- kind: Service\n  metadata: {name: a}\n  spec: {ports: [{name: x}]}\n")
        } throws: { error in
            "\(error)" == "test.yaml: .items[0].spec.ports[0].port: required field missing"
        }
    }

    @Test func aWrongTypeNamesItsPath() {
        #expect {
            try parse("{\"kind\": \"Service\", \"metadata\": {\"name\": \"a\"}, \"spec\": {\"clusterIPs\": \"10.0.0.1\"}}")
        } throws: { error in
            "\(error)".hasPrefix("test.yaml: .spec.clusterIPs: expected Array")
        }
    }

    @Test func aYAMLSyntaxErrorIsOneLineAndNotATruncatedFile() {
        #expect {
            try parse("kind: Namespace\nmetadata: {name: a}\n---\nkind: Namespace\nmetadata: {name: [b\n")
        } throws: { error in
            !"\(error)".contains("\n") && "\(error)".hasPrefix("test.yaml: ")
        }
    }

    /// "Billion laughs": each level names the one before it ten times, so
    /// ten levels stand for 10^10 strings in about 1 KB.
    @Test func nestedAliasesStopAtALimitInsteadOfExpandingWithoutBound() {
        var yaml = "kind: Namespace\nmetadata:\n  name: x\n  labels:\n    l0: &l0 \"lol\"\n"
        for level in 1...10 {
            yaml += "    l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ",") + "]\n"
        }
        #expect(yaml.utf8.count < 1200)
        #expect {
            try parse(yaml)
        } throws: { error in
            "\(error)".contains("aliases expand the document past")
        }
    }

    @Test func nestingPastTheLimitIsAnErrorNotADeepRecursion() {
        let yaml = "kind: Namespace\nmetadata: {name: x}\nspec: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect {
            try parse(yaml)
        } throws: { error in
            "\(error)".contains("nested deeper than 64 levels")
        }
    }

    @Test func aLongLineIsQuotedShortInTheError() {
        #expect {
            try parse("kind: Namespace\nmetadata: {name: [" + String(repeating: "x", count: 200_000) + "\n")
        } throws: { error in
            "\(error)".utf8.count < 400
        }
    }

    @Test func aDirectoryIsSaidToBeOne() {
        #expect {
            try ObjectsFile.load(FileManager.default.temporaryDirectory.path)
        } throws: { error in
            "\(error)" == "\(FileManager.default.temporaryDirectory.path): cannot read: not a regular file"
        }
    }

    @Test func aFileThatCannotBeReadSaysWhich() {
        #expect {
            try ObjectsFile.load("/nonexistent/objects.yaml")
        } throws: { error in
            "\(error)" == "/nonexistent/objects.yaml: cannot read: No such file or directory"
        }
    }
}
