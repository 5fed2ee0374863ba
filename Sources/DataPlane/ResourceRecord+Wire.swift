import DNSModel

/// Uncompressed wire form of records (RFC 1035 §4.1.3), the form the
/// data plane's table builder takes; it compresses them itself.
extension ResourceRecord {
    func appendWire(to bytes: inout [UInt8]) {
        bytes += name.wire
        bytes.appendUInt16(type.rawValue)
        bytes.appendUInt16(1)  // class IN
        bytes.appendUInt32(ttl)
        let lengthAt = bytes.count
        bytes.appendUInt16(0)
        data.appendWire(to: &bytes)
        let length = bytes.count - lengthAt - 2
        bytes[lengthAt] = UInt8(length >> 8)
        bytes[lengthAt + 1] = UInt8(length & 0xFF)
    }
}

extension RecordData {
    func appendWire(to bytes: inout [UInt8]) {
        switch self {
        case .address(let ip):
            bytes += ip.bytes
        case .cname(let name), .ptr(let name), .ns(let name):
            bytes += name.wire
        case let .srv(priority, weight, port, target):
            bytes.appendUInt16(priority)
            bytes.appendUInt16(weight)
            bytes.appendUInt16(port)
            bytes += target.wire
        case .txt(let strings):
            // RFC 1035 §3.3.14: character-strings of at most 255 bytes.
            for string in strings {
                let utf8 = Array(string.utf8.prefix(255))
                bytes.append(UInt8(utf8.count))
                bytes += utf8
            }
        case .soa(let soa):
            bytes += soa.primary.wire
            bytes += soa.mailbox.wire
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] {
                bytes.appendUInt32(value)
            }
        }
    }
}

extension [UInt8] {
    mutating func appendUInt16(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }

    mutating func appendUInt32(_ value: UInt32) {
        appendUInt16(UInt16(value >> 16))
        appendUInt16(UInt16(value & 0xFFFF))
    }
}
