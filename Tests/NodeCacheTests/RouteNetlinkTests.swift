import CLinux
import Foundation
import NodeCache
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The netlink requests, byte for byte as rtnetlink(7) lays them out (what
/// `ip link add nodelocaldns up type dummy` and `ip addr add` send), and
/// their effect on a kernel, in a network namespace of a thread's own.
@Suite struct RouteNetlinkTests {
    @Test func aDummyLinkRequestIsLaidOutAsIproute2Sends() {
        let bytes = RouteNetlink.newDummyLink("nodelocaldns", sequence: 7)
        let expected: [UInt8] =
            [68, 0, 0, 0, 16, 0, 0x05, 0x06, 7, 0, 0, 0, 0, 0, 0, 0]  // length 68, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq 7
            + [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]  // ifinfomsg: AF_UNSPEC, index 0, IFF_UP in flags and change
            + [17, 0, 3, 0] + Array("nodelocaldns".utf8) + [0, 0, 0, 0]  // IFLA_IFNAME, NUL, padding
            + [16, 0, 18, 0, 9, 0, 1, 0] + Array("dummy".utf8) + [0, 0, 0]  // IFLA_LINKINFO { IFLA_INFO_KIND "dummy", padded }
        #expect(bytes == expected)
    }

    @Test func anAddressRequestNamesTheInterfaceAndAHostPrefix() throws {
        let address = try #require(IPAddress("169.254.20.10"))
        let bytes = RouteNetlink.newAddress(address, index: 5, sequence: 2)
        #expect(bytes.count == 40)
        #expect(Array(bytes[4..<6]) == [20, 0])  // RTM_NEWADDR
        #expect(Array(bytes[16..<24]) == [UInt8(AF_INET), 32, 0, 0, 5, 0, 0, 0])
        #expect(Array(bytes[24..<32]) == [8, 0, 2, 0, 169, 254, 20, 10])  // IFA_LOCAL
        #expect(Array(bytes[32..<40]) == [8, 0, 1, 0, 169, 254, 20, 10])  // IFA_ADDRESS
        let v6 = try #require(IPAddress("fd00::a"))
        #expect(RouteNetlink.newAddress(v6, index: 5, sequence: 2)[17] == 128)
    }

    /// In a fresh network namespace: the addresses land on an interface
    /// (loopback here), a second ensure changes nothing, and the kernel's
    /// answer to the dummy request is reported (this machine's kernel has
    /// no dummy driver; where it has one, the interface is made and deleted).
    @Test func theKernelTakesTheAddressesAndAnswersTheLinkRequest() throws {
        let outcome = try inOwnNetworkNamespace { () -> (String, String, Bool) in
            let loopback = DummyInterface(name: "lo", addresses: [IPAddress("169.254.20.10")!, IPAddress("10.0.0.10")!])
            try loopback.addAddresses(index: 1)
            try loopback.addAddresses(index: 1)
            let shown = try runHere("/usr/sbin/ip", ["-4", "-o", "addr", "show", "dev", "lo"])
            let dummy = DummyInterface(name: "nodelocaldns", addresses: [IPAddress("169.254.20.10")!])
            var made = false
            var refusal = ""
            do {
                try dummy.ensure()
                made = dummy.index != nil
                try dummy.remove()
                made = made && dummy.index == nil
            } catch { refusal = "\(error)" }
            return (shown, refusal, made)
        }
        #expect(outcome.0.contains("169.254.20.10/32") && outcome.0.contains("10.0.0.10/32"), "\(outcome.0)")
        #expect(outcome.2 || outcome.1.contains("the kernel has no dummy interfaces"), "\(outcome.1)")
    }
}

/// Runs `body` on a thread of its own moved to a new network namespace
/// (`unshare(CLONE_NEWNET)` changes the calling thread only; processes it
/// starts are in that namespace too). Needs root.
func inOwnNetworkNamespace<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let thread = Thread {
        guard unshare(CLONE_NEWNET) == 0 else {
            result.withLock { $0 = .failure(NamespaceError(description: "unshare: \(String(cString: strerror(errno)))")) }
            return
        }
        let outcome = Result { try body() }
        result.withLock { $0 = outcome }
    }
    thread.start()
    while result.withLock({ $0 == nil }) { usleep(10_000) }
    return try result.withLock { $0! }.get()
}

struct NamespaceError: Error, CustomStringConvertible {
    let description: String
}

/// Runs a program from the calling thread (so in its network namespace), to its end.
func runHere(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = try ChildStart.alone {
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        return pipe
    }
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self)
}
