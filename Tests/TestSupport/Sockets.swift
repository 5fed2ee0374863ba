import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Blocking loopback sockets with receive timeouts, for raw-packet tests.
public final class LoopbackSocket {
    public let fd: Int32

    public init(tcp: Bool, port: UInt16, timeoutMilliseconds: Int = 2000) throws {
        fd = socket(AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EBADF) }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    /// A receive buffer for bursts of replies (4 MiB; as root past rmem_max).
    public func enlargeReceiveBuffer() {
        var size: Int32 = 4 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    public func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// One datagram, or nil on timeout.
    public func receiveDatagram() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n >= 0 ? Array(buffer[..<n]) : nil
    }

    /// Exactly `count` bytes of a stream; nil on timeout or end of stream.
    public func receive(exactly count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var have = 0
        while have < count {
            let n = buffer[have...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            have += n
        }
        return buffer
    }

    /// Sends one DNS message with its two-byte length (RFC 1035 §4.2.2).
    public func sendFramed(_ message: [UInt8]) {
        send([UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message)
    }

    /// One length-prefixed DNS message; nil on timeout or end of stream.
    public func receiveFramed() -> [UInt8]? {
        guard let prefix = receive(exactly: 2) else { return nil }
        return receive(exactly: Int(prefix[0]) << 8 | Int(prefix[1]))
    }

    /// Whether the peer has closed the stream (waits up to the timeout).
    public func peerClosed() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }
}
