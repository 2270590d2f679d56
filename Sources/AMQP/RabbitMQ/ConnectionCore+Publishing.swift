import CRabbitMQ
import Foundation

// Publishing with publisher confirms on `Channel.publish`: publishes wait in `waitingToSend` until they
// are written, then in `unconfirmed` until the broker's `basic.ack`/`basic.nack` (a `basic.return` comes
// first for an unroutable mandatory message); both lists are swept at the publish timeout, and after a
// reconnect what was unconfirmed is sent again.

/// A publish waiting for its confirm.
// @unchecked Sendable: created by a caller, then owned by the connection thread alone.
final class PendingPublish: @unchecked Sendable {
    let message: AMQPMessage
    let deadline: ContinuousClock.Instant
    let continuation: CheckedContinuation<Void, any Error>
    var sequence: UInt64 = 0
    var returned: AMQPError?

    init(message: AMQPMessage, deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Void, any Error>) {
        self.message = message
        self.deadline = deadline
        self.continuation = continuation
    }
}

extension ConnectionCore {
    // MARK: Callers' side

    func publish(_ message: AMQPMessage) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let pending = PendingPublish(
                message: message, deadline: .now + configuration.publishTimeout, continuation: continuation)
            if !submit(.publish(pending)) {
                continuation.resume(throwing: AMQPError(code: .closed, message: "the connection is closed"))
            }
        }
    }

    // MARK: The connection thread

    func selectConfirms() throws {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        _ = amqp_confirm_select(state, Channel.publish)
        try check(amqp_get_rpc_reply(state), "enabling publisher confirms", channel: Channel.publish)
        nextSequence = 1
    }

    func sendWaitingPublishes() throws {
        guard let state, !waitingToSend.isEmpty else { return }
        while !waitingToSend.isEmpty {
            let pending = waitingToSend[0]
            let arena = CArena()
            var properties = pending.message.properties.cProperties(in: arena)
            // The body and names are borrowed in place: amqp_basic_publish has written them when it returns.
            let status = withAMQPBytes(pending.message.exchange) { exchange in
                withAMQPBytes(pending.message.routingKey) { routingKey in
                    pending.message.body.withUnsafeBytes { body in
                        amqp_basic_publish(
                            state, Channel.publish, exchange, routingKey, pending.message.mandatory ? 1 : 0, 0, &properties,
                            amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
                    }
                }
            }
            // A failed write leaves the publish waiting; it goes out again after the reconnect.
            try check(status, "publishing to \(pending.message.exchange)", code: .connectionClosed)
            waitingToSend.removeFirst()
            pending.sequence = nextSequence
            pending.returned = nil
            nextSequence += 1
            unconfirmed.append(pending)
        }
    }

    /// Fails the publishes whose publish timeout has passed (at most every 100 ms unless `force`).
    func sweepDeadlines(force: Bool = false) {
        let now = ContinuousClock.now
        guard force || now - lastDeadlineSweep > .milliseconds(100) else { return }
        lastDeadlineSweep = now
        func expire(_ list: inout [PendingPublish]) {
            list.removeAll { pending in
                guard pending.deadline <= now else { return false }
                pending.continuation.resume(
                    throwing: AMQPError(code: .timeout, message: "no confirm from the broker within the publish timeout"))
                return true
            }
        }
        expire(&unconfirmed)
        expire(&waitingToSend)
    }

    /// While the broker is away, publishes are taken from the inbox to wait for the next connection.
    func takePublishesWhileDisconnected() {
        let publishes = takeCommands { command -> PendingPublish? in
            if case .publish(let pending) = command { return pending }
            return nil
        }
        waitingToSend.append(contentsOf: publishes)
    }

    /// A `basic.ack` or `basic.nack` for one publish, or for every publish up to `tag` when `multiple`.
    func confirm(upTo tag: UInt64, multiple: Bool, nacked: Bool) {
        let settled: [PendingPublish]
        if multiple {
            let count = unconfirmed.prefix { $0.sequence <= tag }.count
            settled = Array(unconfirmed.prefix(count))
            unconfirmed.removeFirst(count)
        } else if let index = unconfirmed.firstIndex(where: { $0.sequence == tag }) {
            settled = [unconfirmed.remove(at: index)]
        } else {
            settled = []
        }
        for pending in settled {
            if nacked {
                pending.continuation.resume(throwing: AMQPError(code: .nacked, message: "the broker refused the message (basic.nack)"))
            } else if let returned = pending.returned {
                pending.continuation.resume(throwing: returned)
            } else {
                pending.continuation.resume()
            }
        }
    }

    /// A `basic.return`: the mandatory message reached no queue. It comes before the confirm of the same
    /// message, which then fails with ``AMQPError/Code/unroutable``.
    func markReturned(_ returned: amqp_basic_return_t, channel: amqp_channel_t) throws {
        let error = AMQPError(
            code: .unroutable, replyCode: returned.reply_code,
            message: "\(returned.reply_text.string): no queue is bound to exchange '\(returned.exchange.string)' for routing key '\(returned.routing_key.string)'")
        let exchange = returned.exchange.string
        let routingKey = returned.routing_key.string
        let (_, properties, _) = try readContent(channel: channel)
        // Mark the oldest matching publish.
        if let pending = unconfirmed.first(where: {
            $0.returned == nil && $0.message.exchange == exchange && $0.message.routingKey == routingKey
                && $0.message.properties.messageID == properties.messageID
        }) {
            pending.returned = error
        }
    }

    /// The broker closed the publish channel (a publish to a missing exchange): the unconfirmed publishes
    /// to the exchange it names fail; the others go out again on the reopened channel.
    func publishChannelClosed(_ error: AMQPError) throws {
        let failed = unconfirmed.filter { error.message.contains("'\($0.message.exchange)'") }
        for pending in failed { pending.continuation.resume(throwing: error) }
        let retry = unconfirmed.filter { pending in !failed.contains { $0 === pending } }
        unconfirmed.removeAll()
        waitingToSend = retry + waitingToSend
        try openChannel(Channel.publish)
        try selectConfirms()
    }
}
