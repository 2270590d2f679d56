@testable import AMQP
import Foundation
import Testing
import TestSupport

@Suite("AMQP deliveries with hostile properties", .enabled(if: TestBroker.isAvailable))
struct HostilePropertiesTests {
    /// Header entries of every field type, with the values no sane publisher sends.
    private static let exoticHeaders: [UInt8] = {
        var writer = Writer()
        writer.entry(Array("not-utf8".utf8), "S", [0, 0, 0, 3, 0xFF, 0xFE, 0x41])
        writer.entry([0x6B, 0xFF], "S", [0, 0, 0, 1, 0x76])  // key "k" + an invalid byte
        writer.entry(Array("decimal".utf8), "D", [2, 0, 0, 0x30, 0x39])  // 123.45
        writer.entry(Array("decimal-negative".utf8), "D", [255, 0xFF, 0xFF, 0xFF, 0xFF])  // -1e-255
        writer.entry(Array("void".utf8), "V")
        writer.entry(Array("bytes".utf8), "x", [0, 0, 0, 3, 0, 1, 2])
        writer.entry(Array("timestamp-max".utf8), "T", [UInt8](repeating: 0xFF, count: 8))
        writer.entry(Array("l-min".utf8), "l", [0x80, 0, 0, 0, 0, 0, 0, 0])
        writer.entry(Array("L-max".utf8), "L", [UInt8](repeating: 0xFF, count: 8))
        writer.entry(Array("b-min".utf8), "b", [0x80])
        writer.entry(Array("B-max".utf8), "B", [0xFF])
        writer.entry(Array("s-min".utf8), "s", [0x80, 0])
        writer.entry(Array("u-max".utf8), "u", [0xFF, 0xFF])
        writer.entry(Array("I-min".utf8), "I", [0x80, 0, 0, 0])
        writer.entry(Array("i-max".utf8), "i", [0xFF, 0xFF, 0xFF, 0xFF])
        writer.entry(Array("f".utf8), "f", [0x3F, 0xC0, 0, 0])  // 1.5
        writer.entry(Array("d-max".utf8), "d", [0x7F, 0xEF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        writer.entry(Array("t".utf8), "t", [7])
        writer.entry(Array("empty-array".utf8), "A", [0, 0, 0, 0])
        // The deepest nesting allowed: this table is level 2, its innermost table level 16.
        let deep = HostileHeaders.nestedTables(depth: 14)
        writer.entry(Array("deep-ok".utf8), "F")
        writer.u32(UInt32(deep.count))
        writer.bytes.append(contentsOf: deep)
        return writer.bytes
    }()

    /// One level deeper than allowed: the innermost table is level 17.
    private static let seventeenLevels: [UInt8] = {
        var writer = Writer()
        let deep = HostileHeaders.nestedTables(depth: 15)
        writer.entry(Array("deep".utf8), "F")
        writer.u32(UInt32(deep.count))
        writer.bytes.append(contentsOf: deep)
        return writer.bytes
    }()

    @Test("Headers nested 17,000 tables deep, arrays nested to the frame's limit, 100,000 values: each arrives with its problem, the connection stays up, and the next message arrives")
    func hostileShapes() async throws {
        let url = try #require(TestBroker.url)
        let queue = TestBroker.uniqueName()
        let connection = try await TestBroker.connect()
        try await connection.declare(Topology(queues: [.init(name: queue)]), redeclareOnReconnect: false)

        let raw = try RawPublisher(url: url)
        let deepestArrays = HostileHeaders.deepestArrays(frameMax: min(raw.frameMax, connection.configuration.frameMax))
        #expect(deepestArrays > 26_000, "the frame holds over 26,000 array levels at frame_max 131,072")
        try raw.publish(routingKey: queue, headers: HostileHeaders.nestedTables(depth: 17_000), body: Array("tables".utf8))
        try raw.publish(routingKey: queue, headers: HostileHeaders.nestedArrays(depth: deepestArrays), body: Array("arrays".utf8))
        try raw.publish(routingKey: queue, headers: HostileHeaders.wideArray(count: 100_000), body: Array("wide".utf8))
        try raw.publish(routingKey: queue, headers: Self.seventeenLevels, body: Array("seventeen".utf8))
        try raw.publish(
            routingKey: queue, headers: Self.exoticHeaders, messageID: [0x69, 0x64, 0xFF], timestamp: .max,
            body: Array("exotic".utf8))
        raw.close()
        try await connection.publish(
            AMQPMessage(
                exchange: "", routingKey: queue, body: Data("normal".utf8),
                properties: .init(headers: ["x-retries": 2], messageID: "normal-1")))

        let consumer = try await connection.consume(queue: queue, prefetch: 10)
        var iterator = consumer.makeAsyncIterator()
        var received: [String: AMQPDelivery] = [:]
        while received.count < 6, let delivery = try await iterator.next() {
            received[String(decoding: delivery.body, as: UTF8.self)] = delivery
            delivery.ack()
        }
        consumer.cancel()

        let tables = try #require(received["tables"])
        #expect(tables.propertiesProblem == "headers nest deeper than 16 levels")
        #expect(tables.properties.headers.isEmpty)
        #expect(tables.properties.persistent, "the other properties are kept")
        let arrays = try #require(received["arrays"])
        #expect(arrays.propertiesProblem == "headers nest deeper than 16 levels")
        #expect(arrays.properties.headers.isEmpty)
        let wide = try #require(received["wide"])
        #expect(wide.propertiesProblem == "headers hold more than 4096 values")
        #expect(wide.properties.headers.isEmpty)
        let seventeen = try #require(received["seventeen"])
        #expect(seventeen.propertiesProblem == "headers nest deeper than 16 levels")

        let exotic = try #require(received["exotic"])
        #expect(exotic.propertiesProblem == nil)
        let headers = exotic.properties.headers
        #expect(headers["not-utf8"] == .bytes([0xFF, 0xFE, 0x41]))
        #expect(headers["not-utf8"]?.stringValue == nil)
        #expect(headers["k\u{FFFD}"] == .string("v"))
        #expect(headers["decimal"] == .double(123.45))
        if case .double(let tiny) = headers["decimal-negative"] {
            #expect(tiny < 0 && tiny > -1e-254)
        } else {
            Issue.record("decimal-negative: \(String(describing: headers["decimal-negative"]))")
        }
        #expect(headers["void"] == .void)
        #expect(headers["bytes"] == .bytes([0, 1, 2]))
        #expect(headers["timestamp-max"] == .timestamp(Date(timeIntervalSince1970: TimeInterval(UInt64.max))))
        #expect(headers["l-min"] == .int(.min))
        #expect(headers["L-max"] == .int(-1))
        #expect(headers["b-min"] == .int(-128))
        #expect(headers["B-max"] == .int(255))
        #expect(headers["s-min"] == .int(-32768))
        #expect(headers["u-max"] == .int(65535))
        #expect(headers["I-min"] == .int(Int64(Int32.min)))
        #expect(headers["i-max"] == .int(Int64(UInt32.max)))
        #expect(headers["f"] == .double(1.5))
        #expect(headers["d-max"] == .double(.greatestFiniteMagnitude))
        #expect(headers["t"] == .bool(true))
        #expect(headers["empty-array"] == .array([]))
        var level = headers["deep-ok"]
        var depth = 1
        while case .table(let table) = level {
            depth += 1
            level = table["n"]
        }
        #expect(depth == 16, "the deepest allowed table arrives whole")
        #expect(exotic.properties.messageID == "id\u{FFFD}")
        for value in headers.values { _ = value.description }  // printing must not trap either

        // Parking republishes a message with its properties: the hostile values must encode again
        // (a timestamp of 2^64 s used to trap converting to UInt64).
        try await connection.publish(
            AMQPMessage(exchange: "", routingKey: queue, body: Data("republished".utf8), properties: exotic.properties))
        let again = try await connection.consume(queue: queue, prefetch: 10)
        var againIterator = again.makeAsyncIterator()
        let republished = try #require(try await againIterator.next())
        republished.ack()
        again.cancel()
        #expect(republished.propertiesProblem == nil)
        #expect(republished.properties.headers == exotic.properties.headers)
        #expect(republished.properties.timestamp == exotic.properties.timestamp)

        let normal = try #require(received["normal"])
        #expect(normal.propertiesProblem == nil)
        #expect(normal.properties.headers == ["x-retries": 2])
        #expect(normal.properties.messageID == "normal-1")
        #expect(connection.reconnections == 0)
        #expect(connection.isConnected)
        try await eventually("every message acknowledged") { try await connection.queueStatus(queue).messages == 0 }
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("The connection thread's stack holds rabbitmq-c's decoding of the most deeply nested table a frame can carry")
    func connectionThreadStack() async throws {
        let connection = try await TestBroker.connect()
        let core = connection.core
        let frameMax = core.negotiatedFrameMax.load(ordering: .relaxed)
        #expect(frameMax > 0)
        #expect(frameMax <= connection.configuration.frameMax)
        // At most frame_max / 5 levels; Debian's build uses 96 bytes a level; ask for 4x that at least.
        let levels = max(frameMax, 131_072) / 5
        let stack = core.threadStackSize.load(ordering: .relaxed)
        #expect(stack >= levels * 96 * 4)
        #expect(stack >= ConnectionCore.stackSize(frameMax: connection.configuration.frameMax))
        await connection.close()
    }

    @Test("A frameMax outside 4096...1 MiB is refused before connecting")
    func frameMaxBounds() async throws {
        for frameMax in [0, 4095, 2_000_000] {
            var configuration = try TestBroker.configuration()
            configuration.frameMax = frameMax
            let error = await #expect(throws: AMQPError.self) { _ = try await AMQPConnection.connect(configuration, logger: TestBroker.logger) }
            #expect(error?.code == .invalidArgument)
        }
    }
}

@Suite("AMQP timestamps on the way out")
struct TimestampEncodingTests {
    @Test("Dates that do not fit AMQP's unsigned 64-bit seconds are clamped instead of trapping")
    func clampedTimestamps() {
        #expect(amqpTimestamp(Date(timeIntervalSince1970: TimeInterval(UInt64.max))) == .max)
        #expect(amqpTimestamp(Date(timeIntervalSince1970: 1e30)) == .max)
        #expect(amqpTimestamp(Date(timeIntervalSince1970: -5)) == 0)
        #expect(amqpTimestamp(Date(timeIntervalSince1970: .nan)) == 0)
        #expect(amqpTimestamp(Date(timeIntervalSince1970: 1_700_000_000.9)) == 1_700_000_000)
        let arena = CArena()
        let properties = AMQPProperties(headers: ["t": .timestamp(Date(timeIntervalSince1970: .infinity))], timestamp: .distantFuture)
        let c = properties.cProperties(in: arena)
        #expect(c.timestamp == UInt64(Date.distantFuture.timeIntervalSince1970))
        #expect(c.headers.entries?.pointee.value.value.u64 == .max)
    }
}
