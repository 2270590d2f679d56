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
            field.value.u64 = UInt64(max(0, date.timeIntervalSince1970))
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
}

extension AMQPValue {
    init(_ field: amqp_field_value_t) {
        let kind = amqp_field_value_kind_t(rawValue: UInt32(field.kind))
        switch kind {
        case AMQP_FIELD_KIND_BOOLEAN: self = .bool(field.value.boolean != 0)
        case AMQP_FIELD_KIND_I8: self = .int(Int64(field.value.i8))
        case AMQP_FIELD_KIND_U8: self = .int(Int64(field.value.u8))
        case AMQP_FIELD_KIND_I16: self = .int(Int64(field.value.i16))
        case AMQP_FIELD_KIND_U16: self = .int(Int64(field.value.u16))
        case AMQP_FIELD_KIND_I32: self = .int(Int64(field.value.i32))
        case AMQP_FIELD_KIND_U32: self = .int(Int64(field.value.u32))
        case AMQP_FIELD_KIND_I64: self = .int(field.value.i64)
        case AMQP_FIELD_KIND_U64: self = .int(Int64(truncatingIfNeeded: field.value.u64))
        case AMQP_FIELD_KIND_F32: self = .double(Double(field.value.f32))
        case AMQP_FIELD_KIND_F64: self = .double(field.value.f64)
        case AMQP_FIELD_KIND_UTF8: self = .string(field.value.bytes.string)
        case AMQP_FIELD_KIND_BYTES: self = .bytes(Array(field.value.bytes.data))
        case AMQP_FIELD_KIND_TIMESTAMP: self = .timestamp(Date(timeIntervalSince1970: TimeInterval(field.value.u64)))
        case AMQP_FIELD_KIND_TABLE: self = .table(Self.dictionary(field.value.table))
        case AMQP_FIELD_KIND_ARRAY:
            let array = field.value.array
            var values: [AMQPValue] = []
            if let entries = array.entries {
                for index in 0..<Int(array.num_entries) { values.append(AMQPValue(entries[index])) }
            }
            self = .array(values)
        default: self = .void
        }
    }

    static func dictionary(_ table: amqp_table_t) -> [String: AMQPValue] {
        guard let entries = table.entries else { return [:] }
        var result: [String: AMQPValue] = [:]
        for index in 0..<Int(table.num_entries) {
            let entry = entries[index]
            result[entry.key.string] = AMQPValue(entry.value)
        }
        return result
    }
}

extension AMQPProperties {
    init(_ c: amqp_basic_properties_t) {
        func has(_ flag: Int32) -> Bool { c._flags & amqp_flags_t(flag) != 0 }
        self.init(
            contentType: has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? c.content_type.string : nil,
            contentEncoding: has(AMQP_BASIC_CONTENT_ENCODING_FLAG) ? c.content_encoding.string : nil,
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? AMQPValue.dictionary(c.headers) : [:],
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
        if let timestamp { c.timestamp = UInt64(max(0, timestamp.timeIntervalSince1970)); flags |= AMQP_BASIC_TIMESTAMP_FLAG }
        if let type { c.type = arena.bytes(type); flags |= AMQP_BASIC_TYPE_FLAG }
        if let userID { c.user_id = arena.bytes(userID); flags |= AMQP_BASIC_USER_ID_FLAG }
        if let appID { c.app_id = arena.bytes(appID); flags |= AMQP_BASIC_APP_ID_FLAG }
        c._flags = amqp_flags_t(flags)
        return c
    }
}
