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
}
