import CRabbitMQ
import Foundation

// One-off operations on `Channel.control`: declaring topologies (remembered ones are declared again after
// each reconnect), inspecting, purging and deleting queues, deleting exchanges. A refusal closes only the
// control channel, which opens again; the caller gets the broker's reason.

/// One-off operations on the control channel.
enum ControlOperation: Sendable {
    case declare(Topology, remember: Bool)
    case inspectQueue(String)
    case purgeQueue(String)
    case deleteQueue(String)
    case deleteExchange(String)
}

enum ControlResult: Sendable {
    case done
    case queue(messages: UInt32, consumers: UInt32)
    case purged(UInt32)
}

extension ConnectionCore {
    // MARK: Callers' side

    func control(_ operation: ControlOperation) async throws -> ControlResult {
        try await withCheckedThrowingContinuation { continuation in
            if !submit(.control(operation, continuation)) {
                continuation.resume(throwing: AMQPError(code: .closed, message: "the connection is closed"))
            }
        }
    }

    // MARK: The connection thread

    /// Runs `operation` and answers its caller; throws (after answering) only when the connection broke.
    func applyControl(_ operation: ControlOperation, _ continuation: CheckedContinuation<ControlResult, any Error>) throws {
        do {
            continuation.resume(returning: try perform(operation))
        } catch let error as AMQPError where error.code == .channelClosed {
            continuation.resume(throwing: error)
        } catch {
            continuation.resume(throwing: error)
            throw error
        }
    }

    func perform(_ operation: ControlOperation) throws -> ControlResult {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        let arena = CArena()
        let channel = Channel.control
        switch operation {
        case .declare(let topology, let remember):
            try declare(topology)
            if remember, !rememberedTopologies.contains(topology) { rememberedTopologies.append(topology) }
            return .done
        case .inspectQueue(let name):
            let ok = amqp_queue_declare(state, channel, arena.bytes(name), 1, 0, 0, 0, amqp_empty_table)
            try check(amqp_get_rpc_reply(state), "inspecting queue \(name)", channel: channel)
            return .queue(messages: ok?.pointee.message_count ?? 0, consumers: ok?.pointee.consumer_count ?? 0)
        case .purgeQueue(let name):
            let ok = amqp_queue_purge(state, channel, arena.bytes(name))
            try check(amqp_get_rpc_reply(state), "purging queue \(name)", channel: channel)
            return .purged(ok?.pointee.message_count ?? 0)
        case .deleteQueue(let name):
            _ = amqp_queue_delete(state, channel, arena.bytes(name), 0, 0)
            try check(amqp_get_rpc_reply(state), "deleting queue \(name)", channel: channel)
            return .done
        case .deleteExchange(let name):
            _ = amqp_exchange_delete(state, channel, arena.bytes(name), 0)
            try check(amqp_get_rpc_reply(state), "deleting exchange \(name)", channel: channel)
            return .done
        }
    }

    func declare(_ topology: Topology) throws {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        let channel = Channel.control
        for exchange in topology.exchanges {
            let arena = CArena()
            _ = amqp_exchange_declare(
                state, channel, arena.bytes(exchange.name), arena.bytes(exchange.type), 0, exchange.durable ? 1 : 0, 0,
                exchange.isInternal ? 1 : 0, arena.table(exchange.arguments))
            try check(amqp_get_rpc_reply(state), "declaring exchange \(exchange.name)", channel: channel)
        }
        for queue in topology.queues {
            let arena = CArena()
            _ = amqp_queue_declare(
                state, channel, arena.bytes(queue.name), 0, queue.durable ? 1 : 0, 0, 0, arena.table(queue.arguments))
            try check(amqp_get_rpc_reply(state), "declaring queue \(queue.name)", channel: channel)
        }
        for binding in topology.bindings {
            let arena = CArena()
            _ = amqp_queue_bind(
                state, channel, arena.bytes(binding.queue), arena.bytes(binding.exchange), arena.bytes(binding.routingKey),
                amqp_empty_table)
            try check(amqp_get_rpc_reply(state), "binding \(binding.queue) to \(binding.exchange)", channel: channel)
        }
    }
}
