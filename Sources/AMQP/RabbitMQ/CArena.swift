import CRabbitMQ
import Foundation

/// Owns the C memory behind the `amqp_bytes_t` and `amqp_table_t` values of one call, and frees it
/// when it goes away. Used on the connection thread only.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for allocation in allocations { allocation.deallocate() }
    }

    private func allocate(_ count: Int, alignment: Int = 8) -> UnsafeMutableRawPointer {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: alignment)
        allocations.append(pointer)
        return pointer
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var utf8 = Array(string.utf8)
        return bytes(&utf8)
    }

    func bytes(_ data: Data) -> amqp_bytes_t {
        let pointer = allocate(data.count)
        data.copyBytes(to: pointer.assumingMemoryBound(to: UInt8.self), count: data.count)
        return amqp_bytes_t(len: data.count, bytes: pointer)
    }

    func bytes(_ array: inout [UInt8]) -> amqp_bytes_t {
        let pointer = allocate(array.count)
        array.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(pointer), byteCount: $0.count) }
        return amqp_bytes_t(len: array.count, bytes: pointer)
    }

    func table(_ dictionary: [String: AMQPValue]) -> amqp_table_t {
        guard !dictionary.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * dictionary.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: dictionary.count)
        for (index, key) in dictionary.keys.sorted().enumerated() {
            // Force-unwrap-free: the key comes from the dictionary itself.
            guard let value = dictionary[key] else { continue }
            (entries + index).initialize(to: amqp_table_entry_t(key: bytes(key), value: field(value)))
        }
        return amqp_table_t(num_entries: Int32(dictionary.count), entries: entries)
    }

    func field(_ value: AMQPValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .bool(let flag):
            field.kind = kind(AMQP_FIELD_KIND_BOOLEAN)
            field.value.boolean = flag ? 1 : 0
        case .int(let number):
            field.kind = kind(AMQP_FIELD_KIND_I64)
            field.value.i64 = number
        case .double(let number):
            field.kind = kind(AMQP_FIELD_KIND_F64)
            field.value.f64 = number
        case .string(let text):
            field.kind = kind(AMQP_FIELD_KIND_UTF8)
            field.value.bytes = bytes(text)
        case .bytes(var raw):
            field.kind = kind(AMQP_FIELD_KIND_BYTES)
            field.value.bytes = bytes(&raw)
        case .timestamp(let date):
            field.kind = kind(AMQP_FIELD_KIND_TIMESTAMP)
            field.value.u64 = amqpTimestamp(date)
        case .table(let nested):
            field.kind = kind(AMQP_FIELD_KIND_TABLE)
            field.value.table = table(nested)
        case .array(let values):
            field.kind = kind(AMQP_FIELD_KIND_ARRAY)
            let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * max(values.count, 1))
                .bindMemory(to: amqp_field_value_t.self, capacity: max(values.count, 1))
            for (index, element) in values.enumerated() { (entries + index).initialize(to: self.field(element)) }
            field.value.array = amqp_array_t(num_entries: Int32(values.count), entries: entries)
        case .void:
            field.kind = kind(AMQP_FIELD_KIND_VOID)
        }
        return field
    }

    private func kind(_ kind: amqp_field_value_kind_t) -> UInt8 { UInt8(truncatingIfNeeded: kind.rawValue) }
}

/// Seconds since 1970 as AMQP sends them, clamped to 0...UInt64.max: a date read from a hostile header
/// (up to 2^64 s) must not trap when the message is published again.
func amqpTimestamp(_ date: Date) -> UInt64 {
    let seconds = date.timeIntervalSince1970
    guard seconds > 0 else { return 0 }  // also NaN
    return seconds < 18_446_744_073_709_551_616.0 ? UInt64(seconds) : .max
}

/// Lends `string`'s UTF-8 bytes as an `amqp_bytes_t` for the duration of `body`, without copying.
func withAMQPBytes<Result>(_ string: String, _ body: (amqp_bytes_t) throws -> Result) rethrows -> Result {
    var string = string
    return try string.withUTF8 { utf8 in
        try body(amqp_bytes_t(len: utf8.count, bytes: UnsafeMutableRawPointer(mutating: utf8.baseAddress)))
    }
}

// MARK: Reading C values

extension amqp_bytes_t {
    /// The bytes as a Swift string (lossy for invalid UTF-8).
    var string: String {
        guard len > 0, let bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }

    var data: Data {
        guard len > 0, let bytes else { return Data() }
        return Data(bytes: bytes, count: len)
    }

    var rawBuffer: UnsafeRawBufferPointer {
        guard len > 0, let bytes else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: bytes, count: len)
    }
}

/// Converts received field tables into ``AMQPValue``s within fixed bounds.
///
/// Headers come from whoever published the message, so they may be hostile: a table nested thousands
/// of levels deep fits in one frame, and so do a hundred thousand one-byte values. The reader never
/// goes deeper than ``AMQPProperties/headerDepthLimit`` (its recursion is bounded by that limit, so its
/// stack use is too) and gives up after ``AMQPProperties/headerValueLimit`` values in all; either way
/// the caller gets a problem to report instead of the headers. Nothing in a field can trap: strings
/// are checked, counts are clamped, numbers are converted without overflow.
struct HeaderReader {
    enum Problem: Error, CustomStringConvertible {
        case tooDeep, tooMany

        var description: String {
            switch self {
            case .tooDeep: return "headers nest deeper than \(AMQPProperties.headerDepthLimit) levels"
            case .tooMany: return "headers hold more than \(AMQPProperties.headerValueLimit) values"
            }
        }
    }

    private var values = 0

    /// Reads a whole headers table (depth 1); a table or array inside it is at depth 2, and so on.
    static func headers(_ table: amqp_table_t) -> (headers: [String: AMQPValue], problem: Problem?) {
        var reader = HeaderReader()
        do {
            return (try reader.table(table, depth: 1), nil)
        } catch {
            return ([:], error)
        }
    }

    private mutating func count(_ entries: Int32, depth: Int) throws(Problem) -> Int {
        guard depth <= AMQPProperties.headerDepthLimit else { throw .tooDeep }
        let count = Int(max(0, entries))
        values += count
        guard values <= AMQPProperties.headerValueLimit else { throw .tooMany }
        return count
    }

    private mutating func table(_ table: amqp_table_t, depth: Int) throws(Problem) -> [String: AMQPValue] {
        let count = try count(table.num_entries, depth: depth)
        guard count > 0, let entries = table.entries else { return [:] }
        var result: [String: AMQPValue] = [:]
        result.reserveCapacity(count)
        for index in 0..<count {
            // Keys are short strings; invalid UTF-8 is replaced (a later duplicate key wins).
            result[entries[index].key.string] = try value(entries[index].value, depth: depth)
        }
        return result
    }

    private mutating func array(_ array: amqp_array_t, depth: Int) throws(Problem) -> [AMQPValue] {
        let count = try count(array.num_entries, depth: depth)
        guard count > 0, let entries = array.entries else { return [] }
        var result: [AMQPValue] = []
        result.reserveCapacity(count)
        for index in 0..<count { result.append(try value(entries[index], depth: depth)) }
        return result
    }

    private mutating func value(_ field: amqp_field_value_t, depth: Int) throws(Problem) -> AMQPValue {
        switch amqp_field_value_kind_t(rawValue: UInt32(field.kind)) {
        case AMQP_FIELD_KIND_BOOLEAN: return .bool(field.value.boolean != 0)
        case AMQP_FIELD_KIND_I8: return .int(Int64(field.value.i8))
        case AMQP_FIELD_KIND_U8: return .int(Int64(field.value.u8))
        case AMQP_FIELD_KIND_I16: return .int(Int64(field.value.i16))
        case AMQP_FIELD_KIND_U16: return .int(Int64(field.value.u16))
        case AMQP_FIELD_KIND_I32: return .int(Int64(field.value.i32))
        case AMQP_FIELD_KIND_U32: return .int(Int64(field.value.u32))
        case AMQP_FIELD_KIND_I64: return .int(field.value.i64)
        // RabbitMQ reads 'L' as signed too (rabbitmq-server#1093); keep the bit pattern.
        case AMQP_FIELD_KIND_U64: return .int(Int64(truncatingIfNeeded: field.value.u64))
        case AMQP_FIELD_KIND_F32: return .double(Double(field.value.f32))
        case AMQP_FIELD_KIND_F64: return .double(field.value.f64)
        case AMQP_FIELD_KIND_DECIMAL:
            // A scale of up to 255 digits and a 32-bit unscaled value: finite as a Double.
            let decimal = field.value.decimal
            return .double(Double(Int32(bitPattern: decimal.value)) / pow(10, Double(decimal.decimals)))
        case AMQP_FIELD_KIND_UTF8:
            // A long string is not checked by the broker; bytes that are not UTF-8 stay bytes.
            let bytes = field.value.bytes.rawBuffer
            if let text = String(validating: bytes, as: UTF8.self) { return .string(text) }
            return .bytes(Array(bytes))
        case AMQP_FIELD_KIND_BYTES: return .bytes(Array(field.value.bytes.rawBuffer))
        case AMQP_FIELD_KIND_TIMESTAMP: return .timestamp(Date(timeIntervalSince1970: TimeInterval(field.value.u64)))
        case AMQP_FIELD_KIND_TABLE: return .table(try table(field.value.table, depth: depth + 1))
        case AMQP_FIELD_KIND_ARRAY: return .array(try array(field.value.array, depth: depth + 1))
        default: return .void
        }
    }
}

extension AMQPProperties {
    /// The properties of a received message, and what was wrong with its headers if they exceeded a
    /// bound (the headers are then empty).
    static func received(_ c: amqp_basic_properties_t) -> (AMQPProperties, problem: String?) {
        func has(_ flag: Int32) -> Bool { c._flags & amqp_flags_t(flag) != 0 }
        let (headers, problem) = has(AMQP_BASIC_HEADERS_FLAG) ? HeaderReader.headers(c.headers) : ([:], nil)
        let properties = AMQPProperties(
            contentType: has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? c.content_type.string : nil,
            contentEncoding: has(AMQP_BASIC_CONTENT_ENCODING_FLAG) ? c.content_encoding.string : nil,
            headers: headers,
            persistent: has(AMQP_BASIC_DELIVERY_MODE_FLAG) && c.delivery_mode == 2,
            priority: has(AMQP_BASIC_PRIORITY_FLAG) ? c.priority : nil,
            correlationID: has(AMQP_BASIC_CORRELATION_ID_FLAG) ? c.correlation_id.string : nil,
            replyTo: has(AMQP_BASIC_REPLY_TO_FLAG) ? c.reply_to.string : nil,
            expiration: has(AMQP_BASIC_EXPIRATION_FLAG) ? c.expiration.string : nil,
            messageID: has(AMQP_BASIC_MESSAGE_ID_FLAG) ? c.message_id.string : nil,
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? Date(timeIntervalSince1970: TimeInterval(c.timestamp)) : nil,
            type: has(AMQP_BASIC_TYPE_FLAG) ? c.type.string : nil,
            userID: has(AMQP_BASIC_USER_ID_FLAG) ? c.user_id.string : nil,
            appID: has(AMQP_BASIC_APP_ID_FLAG) ? c.app_id.string : nil
        )
        return (properties, problem.map(\.description))
    }

    /// The C form, with its memory in `arena`.
    func cProperties(in arena: CArena) -> amqp_basic_properties_t {
        var c = amqp_basic_properties_t()
        var flags: Int32 = 0
        if let contentType { c.content_type = arena.bytes(contentType); flags |= AMQP_BASIC_CONTENT_TYPE_FLAG }
        if let contentEncoding { c.content_encoding = arena.bytes(contentEncoding); flags |= AMQP_BASIC_CONTENT_ENCODING_FLAG }
        if !headers.isEmpty { c.headers = arena.table(headers); flags |= AMQP_BASIC_HEADERS_FLAG }
        c.delivery_mode = persistent ? 2 : 1
        flags |= AMQP_BASIC_DELIVERY_MODE_FLAG
        if let priority { c.priority = priority; flags |= AMQP_BASIC_PRIORITY_FLAG }
        if let correlationID { c.correlation_id = arena.bytes(correlationID); flags |= AMQP_BASIC_CORRELATION_ID_FLAG }
        if let replyTo { c.reply_to = arena.bytes(replyTo); flags |= AMQP_BASIC_REPLY_TO_FLAG }
        if let expiration { c.expiration = arena.bytes(expiration); flags |= AMQP_BASIC_EXPIRATION_FLAG }
        if let messageID { c.message_id = arena.bytes(messageID); flags |= AMQP_BASIC_MESSAGE_ID_FLAG }
        if let timestamp { c.timestamp = amqpTimestamp(timestamp); flags |= AMQP_BASIC_TIMESTAMP_FLAG }
        if let type { c.type = arena.bytes(type); flags |= AMQP_BASIC_TYPE_FLAG }
        if let userID { c.user_id = arena.bytes(userID); flags |= AMQP_BASIC_USER_ID_FLAG }
        if let appID { c.app_id = arena.bytes(appID); flags |= AMQP_BASIC_APP_ID_FLAG }
        c._flags = amqp_flags_t(flags)
        return c
    }
}
