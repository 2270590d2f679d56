import Foundation

/// Exchanges, queues and bindings, as plain values: declared on a broker by
/// ``AMQPConnection/declare(_:)`` (idempotently) or exported as RabbitMQ definitions JSON.
public struct Topology: Sendable, Hashable {
    public struct Exchange: Sendable, Hashable {
        public var name: String
        public var type: String
        public var durable: Bool
        public var isInternal: Bool
        public var arguments: [String: AMQPValue]

        public init(name: String, type: String, durable: Bool = true, isInternal: Bool = false, arguments: [String: AMQPValue] = [:]) {
            self.name = name
            self.type = type
            self.durable = durable
            self.isInternal = isInternal
            self.arguments = arguments
        }
    }

    public struct Queue: Sendable, Hashable {
        public var name: String
        public var durable: Bool
        public var arguments: [String: AMQPValue]

        public init(name: String, durable: Bool = true, arguments: [String: AMQPValue] = [:]) {
            self.name = name
            self.durable = durable
            self.arguments = arguments
        }
    }

    public struct Binding: Sendable, Hashable {
        public var exchange: String
        public var queue: String
        public var routingKey: String

        public init(exchange: String, queue: String, routingKey: String) {
            self.exchange = exchange
            self.queue = queue
            self.routingKey = routingKey
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    /// RabbitMQ definitions JSON (the format of `rabbitmqctl export_definitions` and
    /// `load_definitions`), for one vhost, with stable key order so that a committed export can be
    /// compared byte for byte.
    public func definitionsJSON(vhost: String = "/") throws -> Data {
        func arguments(_ table: [String: AMQPValue]) throws -> [String: DefinitionValue] {
            try table.mapValues { try DefinitionValue($0) }
        }
        let document = Definitions(
            exchanges: try exchanges.map {
                .init(
                    name: $0.name, vhost: vhost, type: $0.type, durable: $0.durable, auto_delete: false,
                    internal: $0.isInternal, arguments: try arguments($0.arguments))
            },
            queues: try queues.map {
                .init(name: $0.name, vhost: vhost, durable: $0.durable, auto_delete: false, arguments: try arguments($0.arguments))
            },
            bindings: bindings.map {
                .init(
                    source: $0.exchange, vhost: vhost, destination: $0.queue, destination_type: "queue",
                    routing_key: $0.routingKey, arguments: [:])
            }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(document)
        data.append(UInt8(ascii: "\n"))
        return data
    }
}

// MARK: Definitions document

private struct Definitions: Encodable {
    struct Exchange: Encodable {
        var name, vhost, type: String
        var durable, auto_delete, `internal`: Bool
        var arguments: [String: DefinitionValue]
    }
    struct Queue: Encodable {
        var name, vhost: String
        var durable, auto_delete: Bool
        var arguments: [String: DefinitionValue]
    }
    struct Binding: Encodable {
        var source, vhost, destination, destination_type, routing_key: String
        var arguments: [String: DefinitionValue]
    }
    var exchanges: [Exchange]
    var queues: [Queue]
    var bindings: [Binding]
}

private enum DefinitionValue: Encodable {
    case bool(Bool), int(Int64), double(Double), string(String), array([DefinitionValue]), table([String: DefinitionValue])

    init(_ value: AMQPValue) throws {
        switch value {
        case .bool(let v): self = .bool(v)
        case .int(let v): self = .int(v)
        case .double(let v): self = .double(v)
        case .string(let v): self = .string(v)
        case .array(let v): self = .array(try v.map(DefinitionValue.init))
        case .table(let v): self = .table(try v.mapValues(DefinitionValue.init))
        case .bytes, .timestamp, .void:
            throw AMQPError(code: .invalidArgument, message: "\(value) has no representation in definitions JSON")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .bool(let v): try container.encode(v)
        case .int(let v): try container.encode(v)
        case .double(let v): try container.encode(v)
        case .string(let v): try container.encode(v)
        case .array(let v): try container.encode(v)
        case .table(let v): try container.encode(v)
        }
    }
}
