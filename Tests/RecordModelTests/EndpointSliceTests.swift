import Foundation
import JSONDecoding
import RecordModel
import Testing

@Suite struct EndpointSliceTests {
    @Test func decodedEndpointsKeepNoRoomToGrow() throws {
        let endpoints = (0..<10).map { #"{"addresses": ["10.0.0.\#($0)"], "hostname": "h\#($0)"}"# }
        let json = """
            {"metadata": {"name": "s", "namespace": "n", "labels": {"kubernetes.io/service-name": "web"}},
             "addressType": "IPv4", "endpoints": [\(endpoints.joined(separator: ","))],
             "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
            """
        let slice = try JSONNode.decode(EndpointSlice.self, from: json.utf8)
        #expect(slice.endpoints.map(\.hostname) == (0..<10).map { "h\($0)" })
        // A decoder grows arrays by doubling: 10 endpoints in room for 16.
        #expect(slice.endpoints.capacity < 16)
        #expect(slice.serviceKey == ObjectKey(namespace: "n", name: "web"))
        // The label is kept as the slice's Service name, without a dictionary.
        #expect(slice.serviceName == "web" && slice.metadata.labels.isEmpty)
        let made = EndpointSlice(
            metadata: ObjectMeta(name: "s", namespace: "n", labels: [EndpointSlice.serviceNameLabel: "web"]),
            addressType: "IPv4", endpoints: slice.endpoints, ports: slice.ports)
        #expect(made == slice)
    }

    @Test(
        arguments: [
            ("{\"endpoints.kubernetes.io/last-change-trigger-time\": \"2024-05-01T12:30:45.25Z\"}", 1_714_566_645.25),
            ("{\"endpoints.kubernetes.io/last-change-trigger-time\": 17}", nil),
            ("{\"endpoints.kubernetes.io/last-change-trigger-time\": \"yesterday\"}", nil),
            ("null", nil),
        ] as [(String, Double?)])
    func theControllersChangeTimeIsReadAndAnOddOneIsNoTime(_ annotations: String, _ expected: Double?) throws {
        let json = """
            {"metadata": {"name": "s", "namespace": "n", "annotations": \(annotations)}, "addressType": "IPv4", "endpoints": []}
            """
        let slice = try JSONNode.decode(EndpointSlice.self, from: json.utf8)
        #expect(slice.lastChangeTriggerTime == expected)
        #expect(slice.metadata.annotations.isEmpty)
    }
}

/// Timestamps as the API writes them.
@Suite struct RFC3339TimeTests {
    @Test(
        arguments: [
            ("1970-01-01T00:00:00Z", 0),
            ("2024-05-01T12:30:45Z", 1_714_566_645),
            ("2024-05-01T14:30:45.5+02:00", 1_714_566_645.5),
            ("2024-05-01T07:30:45-05:00", 1_714_566_645),
            ("2000-02-29T23:59:59Z", 951_868_799),
            ("1969-12-31T00:00:00.000000001Z", -86_399.999_999_999),
        ] as [(String, Double)])
    func readsTheFormsTheAPIWrites(_ text: String, _ seconds: Double) {
        #expect(RFC3339Time.epochSeconds(text).map { abs($0 - seconds) < 1e-6 } == true, "\(text)")
    }

    @Test(arguments: [
        "", "2024-05-01", "2024-05-01T12:30:45", "2024-13-01T12:30:45Z", "2024-05-01T12:30:45.Z", "2024-05-01T12:30:45Zjunk",
        "2024-05-01 12:30:45Z", "2024-05-01T12:30:45+0200",
    ])
    func refusesWhatIsNotOne(_ text: String) {
        #expect(RFC3339Time.epochSeconds(text) == nil)
    }
}
