#if canImport(Glibc)
    import Glibc
#endif

/// The kernel's routing netlink (rtnetlink(7)), for the three requests
/// node-cache makes of it: make a dummy interface, give it an address,
/// delete it. Messages are built as bytes here (netlink(7): a 16-byte
/// header, the request's fixed part, then 4-byte-aligned attributes), so
/// their encoding can be checked where the kernel has no dummy driver.
public enum RouteNetlink {
    // linux/rtnetlink.h, linux/netlink.h, linux/if_link.h, linux/if_addr.h.
    static let newLink: UInt16 = 16
    static let deleteLink: UInt16 = 17
    static let newAddress: UInt16 = 20
    static let errorMessage: UInt16 = 2
    static let request: UInt16 = 0x1
    static let acknowledge: UInt16 = 0x4
    static let exclusive: UInt16 = 0x200
    static let create: UInt16 = 0x400
    static let linkName: UInt16 = 3
    static let linkInfo: UInt16 = 18
    static let linkInfoKind: UInt16 = 1
    static let addressLocal: UInt16 = 2
    static let address: UInt16 = 1
    static let interfaceUp: UInt32 = 0x1
    static let netlinkRoute: Int32 = 0

    /// RTM_NEWLINK: a `dummy` interface named `name`, up.
    public static func newDummyLink(_ name: String, sequence: UInt32) -> [UInt8] {
        var body = linkHeader(index: 0, up: true)
        body += attribute(linkName, Array(name.utf8) + [0])
        // The kind without its NUL, as iproute2 sends it.
        body += attribute(linkInfo, attribute(linkInfoKind, Array("dummy".utf8)))
        return message(newLink, flags: request | acknowledge | create | exclusive, sequence: sequence, body: body)
    }

    /// RTM_DELLINK of the interface with this index.
    public static func deleteLink(index: Int32, sequence: UInt32) -> [UInt8] {
        message(deleteLink, flags: request | acknowledge, sequence: sequence, body: linkHeader(index: index, up: false))
    }

    /// RTM_NEWADDR: `address` alone (/32 or /128) on the interface.
    public static func newAddress(_ address: IPAddress, index: Int32, sequence: UInt32) -> [UInt8] {
        // struct ifaddrmsg: family, prefix length, flags, scope (RT_SCOPE_UNIVERSE), index.
        var body: [UInt8] = [address.family, UInt8(address.bytes.count * 8), 0, 0]
        body += littleEndian(UInt32(bitPattern: index))
        body += attribute(addressLocal, address.bytes)
        body += attribute(self.address, address.bytes)
        return message(newAddress, flags: request | acknowledge | create | exclusive, sequence: sequence, body: body)
    }

    /// struct ifinfomsg: family, type, index, flags, change.
    static func linkHeader(index: Int32, up: Bool) -> [UInt8] {
        [UInt8(AF_UNSPEC), 0, 0, 0] + littleEndian(UInt32(bitPattern: index)) + littleEndian(up ? interfaceUp : 0)
            + littleEndian(up ? interfaceUp : 0)
    }

    static func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        let length = 4 + payload.count
        return littleEndian(UInt16(length)) + littleEndian(type) + payload + [UInt8](repeating: 0, count: (4 - length % 4) % 4)
    }

    static func message(_ type: UInt16, flags: UInt16, sequence: UInt32, body: [UInt8]) -> [UInt8] {
        littleEndian(UInt32(16 + body.count)) + littleEndian(type) + littleEndian(flags) + littleEndian(sequence)
            + littleEndian(UInt32(0)) + body
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// Sends one request and reads the kernel's acknowledgement: 0, or the errno it refused with.
    public static func perform(_ request: [UInt8]) -> Int32 {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkRoute)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        // An unbound, unconnected netlink socket sends to the kernel.
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return errno }
        var reply = [UInt8](repeating: 0, count: 4096)
        let count = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        // An NLMSG_ERROR: the header, then the error as a negative errno (0: done).
        guard count >= 20, UInt16(reply[4]) | UInt16(reply[5]) << 8 == errorMessage else { return count < 0 ? errno : EPROTO }
        let error = reply[16..<20].withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(as: Int32.self)) }
        return -error
    }
}

/// An IPv4 or IPv6 address, parsed with inet_pton.
public struct IPAddress: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public let bytes: [UInt8]
    public var isIPv6: Bool { bytes.count == 16 }
    var family: UInt8 { UInt8(isIPv6 ? AF_INET6 : AF_INET) }

    public init?(_ text: String) {
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &buffer) == 1 {
            bytes = Array(buffer.prefix(4))
        } else if inet_pton(AF_INET6, text, &buffer) == 1 {
            bytes = buffer
        } else {
            return nil
        }
        description = text
    }
}
