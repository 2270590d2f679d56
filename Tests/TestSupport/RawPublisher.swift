import AMQP
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A minimal AMQP 0-9-1 publisher over a plain socket, writing every byte itself, so that tests can
/// publish what no well-behaved client would: headers nested tens of thousands of levels deep, strings
/// that are not UTF-8, every field type. Encoding is flat (no recursion), so building a deep table
/// cannot overflow the test's stack. One channel, publisher confirms; every call blocks until done.
public final class RawPublisher {
    private let socket: Int32
    private var buffer: [UInt8] = []
    private var published: UInt64 = 0
    /// The broker's frame_max, which every frame we send must respect.
    public private(set) var frameMax = 131_072

    public init(url: String) throws {
        let configuration = try AMQPConfiguration(url: url)
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(configuration.port).bigEndian)
        guard inet_pton(AF_INET, configuration.host == "localhost" ? "127.0.0.1" : configuration.host, &address.sin_addr) == 1 else {
            throw TestFailure("RawPublisher needs an IPv4 address, got \(configuration.host)")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect() failed: errno \(errno)") }

        try send(Array("AMQP".utf8) + [0, 0, 9, 1])
        _ = try expectMethod(class: 10, method: 10)  // connection.start
        var startOK = Writer()
        startOK.method(10, 11)
        startOK.u32(0)  // client properties: an empty table
        startOK.shortString(Array("PLAIN".utf8))
        startOK.longString([0] + Array(configuration.user.utf8) + [0] + Array(configuration.password.utf8))
        startOK.shortString(Array("en_US".utf8))
        try sendFrame(type: 1, channel: 0, startOK.bytes)
        var tune = try expectMethod(class: 10, method: 30)
        let channelMax = tune.u16()
        frameMax = Int(tune.u32())
        var tuneOK = Writer()
        tuneOK.method(10, 31)
        tuneOK.u16(channelMax)
        tuneOK.u32(UInt32(frameMax))
        tuneOK.u16(0)  // no heartbeats: the publisher lives for a few seconds
        try sendFrame(type: 1, channel: 0, tuneOK.bytes)
        var open = Writer()
        open.method(10, 40)
        open.shortString(Array(configuration.vhost.utf8))
        open.shortString([])
        open.u8(0)
        try sendFrame(type: 1, channel: 0, open.bytes)
        _ = try expectMethod(class: 10, method: 41)
        var channelOpen = Writer()
        channelOpen.method(20, 10)
        channelOpen.shortString([])
        try sendFrame(type: 1, channel: 1, channelOpen.bytes)
        _ = try expectMethod(class: 20, method: 11)
        var select = Writer()
        select.method(85, 10)
        select.u8(0)
        try sendFrame(type: 1, channel: 1, select.bytes)
        _ = try expectMethod(class: 85, method: 11)
    }

    deinit { Glibc.close(socket) }

    /// Publishes to the default exchange and waits for the broker's confirm.
    /// - Parameters:
    ///   - headers: the *contents* of the headers table (entries, without the table's length), or nil.
    ///   - messageID, timestamp: raw property values.
    public func publish(
        routingKey: String, headers: [UInt8]? = nil, messageID: [UInt8]? = nil, timestamp: UInt64? = nil, body: [UInt8]
    ) throws {
        var publish = Writer()
        publish.method(60, 40)
        publish.u16(0)
        publish.shortString([])  // default exchange
        publish.shortString(Array(routingKey.utf8))
        publish.u8(0)  // not mandatory
        try sendFrame(type: 1, channel: 1, publish.bytes)

        var header = Writer()
        header.u16(60)
        header.u16(0)
        header.u64(UInt64(body.count))
        var flags: UInt16 = 1 << 12  // delivery mode
        if headers != nil { flags |= 1 << 13 }
        if messageID != nil { flags |= 1 << 7 }
        if timestamp != nil { flags |= 1 << 6 }
        header.u16(flags)
        if let headers {
            header.u32(UInt32(headers.count))
            header.bytes.append(contentsOf: headers)
        }
        header.u8(2)  // persistent
        if let messageID { header.shortString(messageID) }
        if let timestamp { header.u64(timestamp) }
        guard header.bytes.count + 8 <= frameMax else {
            throw TestFailure("content header of \(header.bytes.count) bytes exceeds frame_max \(frameMax)")
        }
        try sendFrame(type: 2, channel: 1, header.bytes)
        if !body.isEmpty { try sendFrame(type: 3, channel: 1, body) }
        published += 1

        while true {
            var frame = try readMethod()
            switch (frame.classID, frame.methodID) {
            case (60, 80):  // basic.ack
                let tag = frame.reader.u64()
                if tag >= published { return }
            case (60, 120):
                throw TestFailure("the broker nacked the raw publish")
            case (20, 40), (10, 50):
                _ = frame.reader.u16()
                throw TestFailure("the broker closed the raw publisher: \(String(decoding: frame.reader.shortString(), as: UTF8.self))")
            default:
                continue
            }
        }
    }

    public func close() {
        var close = Writer()
        close.method(10, 50)
        close.u16(200)
        close.shortString([])
        close.u16(0)
        close.u16(0)
        try? sendFrame(type: 1, channel: 0, close.bytes)
        _ = try? expectMethod(class: 10, method: 51)
    }

    // MARK: Frames

    private func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestFailure("send() failed: errno \(errno)") }
            offset += sent
        }
    }

    private func sendFrame(type: UInt8, channel: UInt16, _ payload: [UInt8]) throws {
        var frame = Writer()
        frame.u8(type)
        frame.u16(channel)
        frame.u32(UInt32(payload.count))
        frame.bytes.append(contentsOf: payload)
        frame.u8(0xCE)
        try send(frame.bytes)
    }

    private func receive(_ count: Int) throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while buffer.count < count {
            let received = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { throw TestFailure("the broker closed the raw publisher's socket") }
            buffer.append(contentsOf: chunk[..<received])
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    private struct MethodFrame {
        let classID: UInt16
        let methodID: UInt16
        var reader: Reader
    }

    private func readMethod() throws -> MethodFrame {
        while true {
            var header = Reader(try receive(7))
            let type = header.u8()
            _ = header.u16()
            let size = Int(header.u32())
            let payload = try receive(size + 1).dropLast()
            guard type == 1 else { continue }  // only methods matter here
            var reader = Reader(Array(payload))
            return MethodFrame(classID: reader.u16(), methodID: reader.u16(), reader: reader)
        }
    }

    private func expectMethod(class classID: UInt16, method methodID: UInt16) throws -> Reader {
        var frame = try readMethod()
        guard frame.classID == classID, frame.methodID == methodID else {
            if (frame.classID, frame.methodID) == (10, 50) {
                _ = frame.reader.u16()
                throw TestFailure("the broker closed the connection: \(String(decoding: frame.reader.shortString(), as: UTF8.self))")
            }
            throw TestFailure("expected method \(classID).\(methodID), got \(frame.classID).\(frame.methodID)")
        }
        return frame.reader
    }
}

/// Big-endian AMQP encoding, append only.
public struct Writer {
    public init() {}
    public var bytes: [UInt8] = []

    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    public mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    public mutating func method(_ classID: UInt16, _ methodID: UInt16) {
        u16(classID)
        u16(methodID)
    }
    public mutating func shortString(_ value: [UInt8]) {
        u8(UInt8(value.count))
        bytes.append(contentsOf: value)
    }
    public mutating func longString(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    /// A table entry: key, type byte, then the value's bytes as given.
    public mutating func entry(_ key: [UInt8], _ type: Character, _ value: [UInt8] = []) {
        shortString(key)
        bytes.append(UInt8(ascii: type.unicodeScalars.first ?? "V"))
        bytes.append(contentsOf: value)
    }
}

struct Reader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private mutating func take(_ count: Int) -> ArraySlice<UInt8> {
        let end = min(offset + count, bytes.count)
        defer { offset = end }
        return bytes[offset..<end]
    }
    private mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T {
        take(MemoryLayout<T>.size).reduce(T.zero) { ($0 << 8) | T($1) }
    }
    public mutating func u8() -> UInt8 { integer(UInt8.self) }
    public mutating func u16() -> UInt16 { integer(UInt16.self) }
    public mutating func u32() -> UInt32 { integer(UInt32.self) }
    public mutating func u64() -> UInt64 { integer(UInt64.self) }
    public mutating func shortString() -> [UInt8] { Array(take(Int(u8()))) }
}

/// Hostile header shapes, encoded flat.
public enum HostileHeaders {
    /// The headers table holding tables nested `depth` levels deep below it (key "n" at each level), so
    /// the deepest table is at level `depth + 1` counting the headers table as level 1.
    public static func nestedTables(depth: Int) -> [UInt8] {
        var writer = Writer()
        writer.bytes.reserveCapacity(7 * depth)
        for level in 0..<depth {
            writer.entry(Array("n".utf8), "F")
            writer.u32(UInt32(7 * (depth - 1 - level)))  // each nested entry is 7 bytes: 1+1 key, 'F', length
        }
        return writer.bytes
    }

    /// The headers table holding one entry "a": arrays nested `depth` levels deep (5 bytes a level, the
    /// densest nesting AMQP allows).
    public static func nestedArrays(depth: Int) -> [UInt8] {
        var writer = Writer()
        writer.bytes.reserveCapacity(5 * depth + 2)
        writer.shortString(Array("a".utf8))
        for level in 0..<depth {
            writer.u8(UInt8(ascii: "A"))
            writer.u32(UInt32(5 * (depth - 1 - level)))
        }
        return writer.bytes
    }

    /// The deepest array nesting whose content header fits in `frameMax` (headers only, plus a message id).
    public static func deepestArrays(frameMax: Int) -> Int {
        // frame overhead 8, content header 14, flags 2, table length 4, key 2, delivery mode 1, slack 64
        (frameMax - 8 - 14 - 2 - 4 - 2 - 1 - 64) / 5
    }

    /// The headers table holding one array of `count` void values (1 byte each).
    public static func wideArray(count: Int) -> [UInt8] {
        var writer = Writer()
        writer.entry(Array("wide".utf8), "A")
        writer.u32(UInt32(count))
        writer.bytes.append(contentsOf: repeatElement(UInt8(ascii: "V"), count: count))
        return writer.bytes
    }
}
