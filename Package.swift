// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "kube-dns",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kube-dns", targets: ["KubeDNS"]),
        .executable(name: "kube-api-simulator", targets: ["KubeAPISimulatorTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // System libraries from Debian (libevent-dev, libldns-dev), found through pkg-config.
        .systemLibrary(
            name: "CLibEvent", path: "CSupport/CLibEvent", pkgConfig: "libevent_pthreads",
            providers: [.apt(["libevent-dev"])]),
        .systemLibrary(
            name: "CLdns", path: "CSupport/CLdns", pkgConfig: "ldns",
            providers: [.apt(["libldns-dev"])]),
        // Linux calls glibc has but does not declare (capabilities, unshare).
        .systemLibrary(name: "CLinux", path: "CSupport/CLinux"),

        // The C data plane: event loops, packet path, answer table.
        .target(
            name: "CDataPlane",
            dependencies: ["CLibEvent", "CLdns"],
            path: "CSupport/CDataPlane",
            cSettings: [.define("_GNU_SOURCE")],
            // DNS over TLS to upstreams: libevent's OpenSSL bufferevents (libevent-dev, libssl-dev).
            linkerSettings: [.linkedLibrary("event_openssl"), .linkedLibrary("ssl"), .linkedLibrary("crypto")]),

        // DNS in Swift terms: names, records, zones, their answers, and the
        // zones and changes a table is built from. Pure Swift, no I/O.
        .target(name: "DNSModel"),
        // CoreDNS's configuration language: server blocks, directives,
        // imports, snippets and environment variables, read into values.
        .target(name: "Corefile", dependencies: ["DNSModel", "LabelSelectors"]),
        // Kubernetes label selectors: parsed, matched, written as the API takes them.
        .target(name: "LabelSelectors"),
        // What a Corefile asks of this server, checked against what it can do:
        // the port and addresses, the cluster's records, routes, cache, HTTP endpoints.
        .target(name: "CorefilePlan", dependencies: ["Corefile", "DNSModel", "DataPlane", "RecordModel"]),
        // Kubernetes objects in, DNS records and answers out. Pure Swift, no I/O.
        .target(name: "RecordModel", dependencies: ["DNSModel", "JSONDecoding"]),
        // The Swift face of the data plane: server lifecycle and answer-table publication.
        .target(name: "DataPlane", dependencies: ["CDataPlane", "DNSModel"]),
        // JSON indexed in one pass and read in place: the API's lists and watch events, the objects file.
        .target(name: "JSONDecoding"),
        // The Kubernetes API: kubeconfig and in-cluster access, list and watch, informers.
        .target(
            name: "KubeAPI",
            dependencies: [
                "JSONDecoding",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The one publication loop: a source's batches applied to its records, published as answer tables.
        .target(
            name: "RecordPublisher",
            dependencies: [
                "DNSModel", "DataPlane", "Health", "ServerMetrics", .product(name: "Logging", package: "swift-log"),
            ]),
        // Where Kubernetes objects come from: a static objects file, or the API's informers.
        .target(
            name: "ObjectSources",
            dependencies: [
                "RecordModel", "RecordPublisher", "KubeAPI", "JSONDecoding",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The hosts plugin's names: its file read and followed, served as the data plane's hosts table.
        .target(
            name: "HostsSource",
            dependencies: [
                "CorefilePlan", "DataPlane", "RecordModel", "ServerMetrics", .product(name: "Logging", package: "swift-log"),
            ]),
        // A Corefile followed while the server runs: routes and hosts applied, reloads, what needs a restart.
        .target(
            name: "CorefileReload",
            dependencies: [
                "Corefile", "CorefilePlan", "DataPlane", "HostsSource", "ServerMetrics", "Upstreams",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Where names outside the cluster go: --nameservers, resolv.conf, the ConfigMap directory, a Corefile's routes.
        .target(
            name: "Upstreams",
            dependencies: [
                "CLdns", "DataPlane", "DNSModel", "CorefilePlan", .product(name: "Logging", package: "swift-log"),
            ]),
        // node-cache's node setup: the Corefile from its template, the
        // dummy interface (netlink), the iptables rules.
        .target(
            name: "NodeCache",
            dependencies: ["Upstreams", .product(name: "Logging", package: "swift-log")]),
        // What /metrics says: CoreDNS's names, the data plane's counters read at scrape time.
        .target(
            name: "ServerMetrics",
            dependencies: ["DataPlane", "DNSModel", .product(name: "Prometheus", package: "swift-prometheus")]),
        // etcd v3 over its JSON gateway, and the skydns layout of kube2sky's records.
        .target(
            name: "Etcd",
            dependencies: [
                "RecordModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]),
        // The HTTP endpoints (/readiness, /healthz, serving /metrics too), readiness, exechealthz.
        .target(
            name: "Health",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // A Kubernetes API server in miniature, speaking the real list/watch protocol, with scripted faults.
        .target(
            name: "KubeAPISimulator",
            dependencies: [
                "LabelSelectors",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .executableTarget(
            name: "KubeAPISimulatorTool",
            dependencies: [
                "KubeAPISimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // kube2sky: the cluster's objects kept in etcd as the skydns layout.
        .target(
            name: "Kube2Sky",
            dependencies: [
                "Etcd", "ObjectSources", "RecordPublisher", "KubeAPI", "RecordModel", "Health",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // skydns's source of records: the keys under the domain in etcd, read and watched.
        .target(
            name: "SkyDNSSource",
            dependencies: [
                "Etcd", "KubeAPI", "RecordModel", "RecordPublisher", .product(name: "Logging", package: "swift-log"),
            ]),
        // The `kube-dns` executable: commands that wire the modules together.
        .executableTarget(
            name: "KubeDNS",
            dependencies: [
                "RecordModel", "DataPlane", "RecordPublisher", "ObjectSources", "KubeAPI", "Health", "Upstreams",
                "ServerMetrics", "Etcd", "Kube2Sky", "SkyDNSSource", "Corefile", "CorefilePlan", "CorefileReload", "CLinux", "NodeCache",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .testTarget(name: "DNSModelTests", dependencies: ["DNSModel"]),
        .testTarget(name: "CorefileTests", dependencies: ["Corefile"]),
        .testTarget(name: "LabelSelectorsTests", dependencies: ["LabelSelectors"]),
        .testTarget(name: "NodeCacheTests", dependencies: ["NodeCache", "Upstreams", "DNSModel", "DataPlane", "CLinux", "TestSupport"]),
        .testTarget(
            name: "CorefilePlanTests", dependencies: ["CorefilePlan", "Corefile", "DNSModel", "DataPlane", "RecordModel", "TestSupport"]),
        .testTarget(
            name: "RecordModelTests",
            dependencies: ["RecordModel", "ObjectSources", "JSONDecoding", "TestSupport"]),
        .testTarget(
            name: "ObjectSourcesTests",
            dependencies: ["ObjectSources", "RecordModel", "RecordPublisher", "KubeAPI"]),
        .testTarget(
            name: "DataPlaneTests",
            dependencies: ["DataPlane", "CDataPlane", "CLdns", "RecordModel", "ServerMetrics", "TestSupport"]),
        .testTarget(
            name: "UpstreamsTests",
            dependencies: ["Upstreams", "DataPlane", "DNSModel"]),
        .testTarget(
            name: "EtcdTests",
            dependencies: ["Etcd", "RecordModel", "TestSupport"]),
        .testTarget(
            name: "Kube2SkyTests",
            dependencies: ["Kube2Sky", "Etcd", "KubeAPI", "ObjectSources", "RecordModel"]),
        .testTarget(name: "JSONDecodingTests", dependencies: ["JSONDecoding", "TestSupport"]),
        .testTarget(
            name: "KubeAPITests",
            dependencies: ["KubeAPI", "KubeAPISimulator", "JSONDecoding", "TestSupport"]),
        .testTarget(
            name: "KubeAPISimulatorTests",
            dependencies: ["KubeAPISimulator", "TestSupport"]),
        .testTarget(
            name: "RecordPublisherTests",
            dependencies: [
                "RecordPublisher", "ObjectSources", "RecordModel", "DataPlane", "Health", "ServerMetrics", "KubeAPI",
                "KubeAPISimulator", "TestSupport",
            ]),
        .testTarget(
            name: "KubeDNSTests",
            dependencies: [
                "KubeDNS", "CLdns", "TestSupport", "KubeAPISimulator", "Etcd", "NodeCache", .product(name: "Yams", package: "Yams"),
            ]),
        // Shared by the test targets: the fixture cluster, its expected answers, DNS clients.
        .target(
            name: "TestSupport",
            dependencies: [
                "RecordModel", "RecordPublisher", "CLdns", "Etcd", "KubeAPISimulator",
                .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
            ],
            path: "Tests/TestSupport",
            resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
