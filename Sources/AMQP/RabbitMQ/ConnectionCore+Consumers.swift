import CRabbitMQ
import Foundation

// Consumers, one channel each from `Channel.firstConsumer` on: registered by callers, started (again
// after each reconnect) by the connection thread, cancelled by callers or the broker. Deliveries carry
// their channel's epoch, so a settlement for a channel that closed since is dropped (the broker gives the
// delivery out again). Acks of the oldest unsettled deliveries are coalesced into one `multiple` ack per batch.

/// A consumer as the connection thread sees it; re-registered with the broker after each reconnect.
// @unchecked Sendable: created by a caller, then its mutable fields are used by the connection thread alone.
final class ConsumerRegistration: @unchecked Sendable {
    let id: UInt64
    let queue: String
    let prefetch: UInt16
    let arguments: [String: AMQPValue]
    let deliveries: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation
    var started: CheckedContinuation<Void, any Error>?
    var channel: amqp_channel_t = 0
    var consumerTag = ""
    var cancelling = false

    init(
        id: UInt64, queue: String, prefetch: UInt16, arguments: [String: AMQPValue],
        deliveries: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation, started: CheckedContinuation<Void, any Error>
    ) {
        self.id = id
        self.queue = queue
        self.prefetch = prefetch
        self.arguments = arguments
        self.deliveries = deliveries
        self.started = started
    }
}

/// How a delivery is settled.
enum Settlement: Sendable {
    case ack, nack(requeue: Bool), reject(requeue: Bool)
}

extension ConnectionCore {
    // MARK: Callers' side

    func consume(queue: String, prefetch: UInt16, arguments: [String: AMQPValue]) async throws -> AMQPConsumer {
        let id = nextConsumerID.add(1, ordering: .relaxed).newValue
        let (stream, deliveries) = AsyncThrowingStream<AMQPDelivery, any Error>.makeStream()
        try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, any Error>) in
            let registration = ConsumerRegistration(
                id: id, queue: queue, prefetch: prefetch, arguments: arguments, deliveries: deliveries, started: started)
            if !submit(.consume(registration)) {
                started.resume(throwing: AMQPError(code: .closed, message: "the connection is closed"))
            }
        }
        return AMQPConsumer(id: id, queue: queue, stream: stream, core: self)
    }

    func settle(_ settlement: Settlement, tag: UInt64, channel: UInt16, epoch: UInt64) {
        _ = submit(.settle(settlement, tag: tag, channel: channel, epoch: epoch))
    }

    func cancelConsumer(id: UInt64) {
        _ = submit(.cancel(consumerID: id))
    }

    // MARK: Starting and stopping consumers

    /// A caller's new consumer: on the first free channel, started now.
    func register(_ registration: ConsumerRegistration) throws {
        let used = Set(consumers.map(\.channel))
        var channel = Channel.firstConsumer
        while used.contains(channel) { channel += 1 }
        registration.channel = channel
        consumers.append(registration)
        do {
            try startConsuming(registration)
        } catch let error as AMQPError where error.code == .channelClosed {
            consumers.removeAll { $0 === registration }
            registration.started?.resume(throwing: error)
            registration.started = nil
            registration.deliveries.finish(throwing: error)
        }
    }

    /// After a (re)connect: every consumer starts again, on fresh channels. Throws when the connection breaks.
    func restartConsumers() throws {
        var nextChannel = Channel.firstConsumer
        for consumer in consumers {
            consumer.channel = nextChannel
            nextChannel += 1
            do {
                try startConsuming(consumer)
            } catch let error as AMQPError where error.code == .channelClosed {
                // Its queue is gone (or refused): that consumer ends, the connection goes on.
                consumers.removeAll { $0 === consumer }
                consumer.deliveries.finish(throwing: error)
            }
        }
    }

    func startConsuming(_ consumer: ConsumerRegistration) throws {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        try openChannel(consumer.channel)
        _ = amqp_basic_qos(state, consumer.channel, 0, consumer.prefetch, 0)
        try check(amqp_get_rpc_reply(state), "setting prefetch on \(consumer.queue)", channel: consumer.channel)
        let arena = CArena()
        let ok = amqp_basic_consume(
            state, consumer.channel, arena.bytes(consumer.queue), amqp_empty_bytes, 0, 0, 0, arena.table(consumer.arguments))
        try check(amqp_get_rpc_reply(state), "consuming from \(consumer.queue)", channel: consumer.channel)
        consumer.consumerTag = ok?.pointee.consumer_tag.string ?? ""
        consumer.started?.resume()
        consumer.started = nil
    }

    func cancel(_ consumer: ConsumerRegistration) throws {
        consumer.cancelling = true
        guard let state else { return }
        let arena = CArena()
        _ = amqp_basic_cancel(state, consumer.channel, arena.bytes(consumer.consumerTag))
        try check(amqp_get_rpc_reply(state), "cancelling consumer on \(consumer.queue)", channel: consumer.channel)
        // The channel stays open so that deliveries already handed out can still be settled.
        consumer.deliveries.finish()
    }

    /// A consumer cancelled while the broker is away ends at once: there is nothing to tell the broker (its
    /// channel is gone, so its deliveries are back in the queue), and it is not started again on reconnect.
    /// (A worker draining on SIGTERM does not wait for the broker to come back.)
    func cancelConsumersWhileDisconnected() {
        let cancelled = takeCommands { command -> UInt64? in
            if case .cancel(let id) = command { return id }
            return nil
        }
        for id in cancelled {
            guard let index = consumers.firstIndex(where: { $0.id == id }) else { continue }
            consumers.remove(at: index).deliveries.finish()
        }
    }

    /// At teardown, a consumer whose cancel was under way is done: its stream ends (if the connection broke
    /// before `basic.cancel-ok`, nothing else would end it) and it does not start again.
    func endConsumersBeingCancelled() {
        for consumer in consumers where consumer.cancelling {
            consumers.removeAll { $0 === consumer }
            consumer.deliveries.finish()
        }
    }

    /// The broker cancelled a consumer (its queue was deleted, or a failover).
    func brokerCancelledConsumer(channel: amqp_channel_t) {
        guard let consumer = consumers.first(where: { $0.channel == channel }) else { return }
        consumers.removeAll { $0 === consumer }
        consumer.deliveries.finish(
            throwing: AMQPError(code: .channelClosed, message: "the broker cancelled the consumer of queue \(consumer.queue)"))
    }

    /// The broker closed a consumer's channel: that consumer ends with the broker's reason.
    func consumerChannelClosed(_ channel: amqp_channel_t, _ error: AMQPError) {
        guard let consumer = consumers.first(where: { $0.channel == channel }) else { return }
        consumers.removeAll { $0 === consumer }
        consumer.deliveries.finish(throwing: error)
    }

    // MARK: Deliveries and settlement

    func handleDelivery(_ deliver: amqp_basic_deliver_t, channel: amqp_channel_t) throws {
        guard let state else { return }
        let tag = deliver.delivery_tag
        let redelivered = deliver.redelivered != 0
        let exchange = deliver.exchange.string
        let routingKey = deliver.routing_key.string
        let (body, properties, problem) = try readContent(channel: channel)
        guard let consumer = consumers.first(where: { $0.channel == channel }),
            let channelEpoch = channelEpochs[channel]
        else { return }
        unsettled[channel, default: TagQueue()].append(tag)
        if let problem {
            logger.warning(
                "AMQP delivery with malformed properties: headers dropped",
                metadata: ["amqp-queue": "\(consumer.queue)", "amqp-delivery-tag": "\(tag)", "amqp-properties-problem": "\(problem)"])
        }
        let delivery = AMQPDelivery(
            body: body, properties: properties, propertiesProblem: problem, exchange: exchange, routingKey: routingKey, redelivered: redelivered,
            deliveryTag: tag, settler: .init(core: self, channel: channel, epoch: channelEpoch))
        if case .terminated = consumer.deliveries.yield(delivery) {
            // Nobody reads this consumer any more: it was cancelled and the broker's delivery crossed
            // the `basic.cancel`, or its reader went away. Nothing would settle it, and the channel
            // stays open, so it would sit unacknowledged until the connection closes: hand it back.
            unsettled[channel]?.remove(tag)
            try check(amqp_basic_reject(state, channel, tag, 1), "handing back delivery \(tag)", code: .connectionClosed)
        }
    }

    func applySettlement(_ settlement: Settlement, tag: UInt64, channel: amqp_channel_t, epoch deliveryEpoch: UInt64) throws {
        guard let state, channelEpochs[channel] == deliveryEpoch else {
            logger.debug("AMQP settlement dropped: its channel closed since (the broker redelivers)", metadata: ["amqp-delivery-tag": "\(tag)"])
            return
        }
        let status: Int32
        switch settlement {
        case .ack:
            // Acks of the oldest unsettled deliveries are folded into one `multiple` ack per batch;
            // any other ack goes out on its own right away, so nothing waits behind a slow delivery.
            if unsettled[channel]?.first == tag {
                unsettled[channel]?.removeFirst()
                coalescedAcks[channel] = tag
                return
            }
            if let pending = coalescedAcks.removeValue(forKey: channel) {
                try check(amqp_basic_ack(state, channel, pending, 1), "acknowledging up to \(pending)", code: .connectionClosed)
            }
            unsettled[channel]?.remove(tag)
            status = amqp_basic_ack(state, channel, tag, 0)
        case .nack(let requeue):
            unsettled[channel]?.remove(tag)
            status = amqp_basic_nack(state, channel, tag, 0, requeue ? 1 : 0)
        case .reject(let requeue):
            unsettled[channel]?.remove(tag)
            status = amqp_basic_reject(state, channel, tag, requeue ? 1 : 0)
        }
        try check(status, "settling delivery \(tag)", code: .connectionClosed)
    }

    func flushCoalescedAcks() throws {
        guard let state, !coalescedAcks.isEmpty else { return }
        for (channel, tag) in coalescedAcks where channelEpochs[channel] != nil {
            try check(amqp_basic_ack(state, channel, tag, 1), "acknowledging up to \(tag)", code: .connectionClosed)
        }
        coalescedAcks.removeAll(keepingCapacity: true)
    }
}

/// Delivery tags in delivery order, with cheap removal at the front.
struct TagQueue {
    private var tags: [UInt64] = []
    private var head = 0

    var first: UInt64? { head < tags.count ? tags[head] : nil }

    mutating func append(_ tag: UInt64) { tags.append(tag) }

    mutating func removeFirst() {
        head += 1
        if head > 1024, head * 2 > tags.count {
            tags.removeFirst(head)
            head = 0
        }
    }

    /// Removes `tag` wherever it is (a settlement out of delivery order).
    mutating func remove(_ tag: UInt64) {
        guard let index = tags[head...].firstIndex(of: tag) else { return }
        if index == head { removeFirst() } else { tags.remove(at: index) }
    }
}
