import CRabbitMQ
import CShims
import Foundation
import Timing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The connection thread: connect, serve until closing is asked, reconnect with backoff when the
// connection breaks, and on the way out fail whatever is still waiting.

extension ConnectionCore {
    // MARK: The loop

    func run() {
        var failures = 0
        while true {
            do {
                try connect()
                failures = 0
                connectedFlag.store(true, ordering: .releasing)
                resolveStart(nil)
                try serve()
                break  // serve returns only when closing was asked
            } catch {
                connectedFlag.store(false, ordering: .releasing)
                let firstAttempt = resolveStart(error)
                teardown(after: error)
                if firstAttempt || closingRequested { break }
                failures += 1
                reconnectCount.add(1, ordering: .relaxed)
                AMQPMetrics.reconnecting()
                let delay = reconnectBackoff.delay(attempt: failures)
                logger.warning(
                    "AMQP connection lost, reconnecting",
                    metadata: [
                        "amqp-error": "\(error)", "amqp-retry-in-ms": "\(delay.millisecondsRoundedUp)",
                        "amqp-broker": "\(configuration.redactedURL)",
                    ])
                guard waitForWake(delay) else { break }
            }
        }
        finishThread()
    }

    /// Doubling from the configured initial delay up to its maximum, with equal jitter (never less than half
    /// the ceiling, so waits still grow, while a fleet that lost the broker together spreads out).
    var reconnectBackoff: Backoff {
        Backoff(initial: configuration.reconnectDelay.initial, maximum: configuration.reconnectDelay.maximum, jitter: .equal)
    }

    var closingRequested: Bool { inbox.withLock { $0.closing } }

    /// Resolves `start()`'s wait with the first attempt's outcome; returns whether this was the first.
    @discardableResult
    func resolveStart(_ error: (any Error)?) -> Bool {
        let continuation: CheckedContinuation<Void, any Error>?? = startOutcome.withLock { outcome in
            guard case .pending(let continuation) = outcome else { return .none }
            outcome = .done
            return .some(continuation)
        }
        guard case .some(let waiting) = continuation else { return false }
        if let error { waiting?.resume(throwing: error) } else { waiting?.resume() }
        return true
    }

    func finishThread() {
        let closed = AMQPError(code: .closed, message: "the connection was closed")
        if let state {
            if connectedFlag.load(ordering: .acquiring) {
                _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
            }
            amqp_destroy_connection(state)
            self.state = nil
        }
        connectedFlag.store(false, ordering: .releasing)
        for pending in unconfirmed + waitingToSend { pending.continuation.resume(throwing: closed) }
        unconfirmed.removeAll()
        waitingToSend.removeAll()
        for consumer in consumers {
            consumer.started?.resume(throwing: closed)
            consumer.deliveries.finish()
        }
        consumers.removeAll()
        let (commands, waiters) = inbox.withLock { inbox in
            threadState = .done
            defer { inbox.commands.removeAll(); inbox.closeWaiters.removeAll() }
            return (inbox.commands, inbox.closeWaiters)
        }
        for command in commands { fail(command, with: closed) }
        for waiter in waiters { waiter.resume() }
    }

    func fail(_ command: Command, with error: AMQPError) {
        switch command {
        case .publish(let pending): pending.continuation.resume(throwing: error)
        case .consume(let registration):
            registration.started?.resume(throwing: error)
            registration.deliveries.finish(throwing: error)
        case .control(_, let continuation): continuation.resume(throwing: error)
        case .settle, .cancel: break
        }
    }

    // MARK: Connecting

    func connect() throws {
        guard let state = amqp_new_connection() else {
            throw AMQPError(code: .library, message: "out of memory creating a connection")
        }
        self.state = state
        guard let socket = configuration.tls ? amqp_ssl_socket_new(state) : amqp_tcp_socket_new(state) else {
            throw AMQPError(code: .library, message: "could not create a socket")
        }
        if configuration.tls {
            amqp_ssl_socket_set_verify_peer(socket, 1)
            amqp_ssl_socket_set_verify_hostname(socket, 1)
            if let caFile = configuration.caFile {
                try check(amqp_ssl_socket_set_cacert(socket, caFile), "reading CA file \(caFile)", code: .connectionFailed)
            }
        }
        var timeout = timeval(duration: configuration.connectTimeout)
        try check(
            amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &timeout),
            "connecting to \(configuration.host):\(configuration.port)", code: .connectionFailed)
        var rpcTimeout = timeval(duration: .seconds(30))
        amqp_set_rpc_timeout(state, &rpcTimeout)

        let arena = CArena()
        var properties = arena.table([
            "connection_name": .string(configuration.connectionName),
            "product": "docsend-sync",
            "capabilities": .table([
                "consumer_cancel_notify": true, "publisher_confirms": true, "basic.nack": true,
                "connection.blocked": true, "authentication_failure_close": true,
            ]),
        ])
        let login = dss_amqp_login_plain_with_properties(
            state, configuration.vhost, 0, Int32(configuration.frameMax), Int32(configuration.heartbeat), &properties,
            configuration.user, configuration.password)
        try check(login, "logging in to vhost \(configuration.vhost) as \(configuration.user)", code: .connectionFailed)
        negotiatedFrameMax.store(Int(amqp_get_frame_max(state)), ordering: .relaxed)

        channelEpochs.removeAll()
        try openChannel(Channel.control)
        try openChannel(Channel.publish)
        try selectConfirms()
        for topology in rememberedTopologies { try declare(topology) }
        try restartConsumers()
        logger.debug("AMQP connected", metadata: ["amqp-broker": "\(configuration.redactedURL)"])
        // Publishes that were unconfirmed when the previous connection broke go out again.
        let resend = unconfirmed + waitingToSend
        unconfirmed.removeAll()
        waitingToSend = resend
    }

    func openChannel(_ channel: amqp_channel_t) throws {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        _ = amqp_channel_open(state, channel)
        try check(amqp_get_rpc_reply(state), "opening channel \(channel)", channel: channel)
        epoch += 1
        channelEpochs[channel] = epoch
        unsettled[channel] = nil
        coalescedAcks[channel] = nil
    }

    /// Drops the broken connection; what was sent and unconfirmed will be sent again.
    func teardown(after error: any Error) {
        if let state {
            amqp_destroy_connection(state)
            self.state = nil
        }
        channelEpochs.removeAll()
        unsettled.removeAll()
        coalescedAcks.removeAll()
        waitingToSend = unconfirmed + waitingToSend
        unconfirmed.removeAll()
        endConsumersBeingCancelled()
    }

    // MARK: Serving

    func serve() throws {
        while true {
            let (commands, closing) = inbox.withLock { inbox -> ([Command], Bool) in
                if inbox.held { return ([], inbox.closing) }
                defer { inbox.commands.removeAll(keepingCapacity: true) }
                return (inbox.commands, inbox.closing)
            }
            for (index, command) in commands.enumerated() {
                do {
                    try apply(command)
                } catch {
                    putBack(commands[(index + 1)...])
                    throw error
                }
            }
            try flushCoalescedAcks()
            try sendWaitingPublishes()
            if closing {
                try drainBeforeClose()
                return
            }
            sweepDeadlines()

            var handled = 0
            while handled < 256, let frame = try nextFrame() {
                try dispatch(frame)
                handled += 1
            }
            if handled == 0 { try waitForActivity() }
        }
    }

    /// On close: stop consumers, give unconfirmed publishes until their deadline, then return.
    func drainBeforeClose() throws {
        for consumer in consumers where !consumer.cancelling { try cancel(consumer) }
        while !unconfirmed.isEmpty || !waitingToSend.isEmpty {
            try sendWaitingPublishes()
            sweepDeadlines(force: true)
            if let frame = try nextFrame() { try dispatch(frame) } else { try waitForActivity() }
        }
    }

    /// A command that failed ended the connection; the commands of its batch not applied yet go back to
    /// the front of the inbox, in order, for the next connection (publishes are sent like any waiting
    /// publish, consumers start, controls run; if the connection never comes back, closing fails them).
    /// Their settlements are dropped: they are for channels of the dead connection, whose deliveries
    /// the broker gives out again.
    func putBack(_ commands: ArraySlice<Command>) {
        let kept = commands.filter { command in
            if case .settle(_, let tag, _, _) = command {
                logger.debug("AMQP settlement dropped: its channel closed since (the broker redelivers)", metadata: ["amqp-delivery-tag": "\(tag)"])
                return false
            }
            return true
        }
        guard !kept.isEmpty else { return }
        inbox.withLock { $0.commands.insert(contentsOf: kept, at: 0) }
    }

    /// Applies one caller's command. When it throws (the connection broke), the command itself has been
    /// answered or kept: a publish waits to be sent, a consumer is registered and starts on the next
    /// connection, a control's caller got the error, a cancelled consumer ends at teardown.
    func apply(_ command: Command) throws {
        switch command {
        case .publish(let pending):
            waitingToSend.append(pending)
        case .settle(let settlement, let tag, let channel, let deliveryEpoch):
            try applySettlement(settlement, tag: tag, channel: channel, epoch: deliveryEpoch)
        case .consume(let registration):
            try register(registration)
        case .cancel(let id):
            if let consumer = consumers.first(where: { $0.id == id }), !consumer.cancelling { try cancel(consumer) }
        case .control(let operation, let continuation):
            try applyControl(operation, continuation)
        }
    }

    // MARK: Frames

    /// The next frame already received or readable now; `nil` when there is none. Sends heartbeats when due.
    func nextFrame() throws -> amqp_frame_t? {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &immediately)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        try check(status, "reading from the broker", code: .connectionClosed)
        return frame
    }

    /// Sleeps until the socket is readable, a caller wakes us, or it is time to look at heartbeats.
    func waitForActivity() throws {
        guard let state else { return }
        if amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 { return }
        let heartbeat = amqp_get_heartbeat(state)
        let timeoutMs = heartbeat > 0 ? min(1000, Int(heartbeat) * 250) : 1000
        var descriptors = [
            pollfd(fd: amqp_get_sockfd(state), events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeSignal.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        _ = poll(&descriptors, 2, Int32(timeoutMs))
        if descriptors[1].revents != 0 { wakeSignal.drain() }
    }

    /// Waits `delay` between reconnection attempts; returns false as soon as closing is asked.
    /// Publishes that arrive meanwhile are queued for sending and still fail at their publish timeout.
    func waitForWake(_ delay: Duration) -> Bool {
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline {
            if closingRequested { return false }
            takePublishesWhileDisconnected()
            cancelConsumersWhileDisconnected()
            sweepDeadlines(force: true)
            var descriptor = pollfd(fd: wakeSignal.descriptor, events: Int16(POLLIN), revents: 0)
            let remaining = min(max(1, (deadline - ContinuousClock.now).millisecondsRoundedUp), Int(Int32.max))
            _ = poll(&descriptor, 1, Int32(remaining))
            if descriptor.revents != 0 { wakeSignal.drain() }
        }
        return !closingRequested
    }

    /// Hands one frame to the concern it belongs to.
    func dispatch(_ frame: amqp_frame_t) throws {
        guard let state else { return }
        defer { amqp_maybe_release_buffers_on_channel(state, frame.channel) }
        guard frame.frame_type == AMQP_FRAME_METHOD else { return }
        let method = frame.payload.method
        switch method.id {
        case AMQP_BASIC_DELIVER_METHOD:
            guard let deliver = method.decoded?.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee else { return }
            try handleDelivery(deliver, channel: frame.channel)
        case AMQP_BASIC_ACK_METHOD:
            guard let ack = method.decoded?.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee else { return }
            confirm(upTo: ack.delivery_tag, multiple: ack.multiple != 0, nacked: false)
        case AMQP_BASIC_NACK_METHOD:
            guard let nack = method.decoded?.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee else { return }
            confirm(upTo: nack.delivery_tag, multiple: nack.multiple != 0, nacked: true)
        case AMQP_BASIC_RETURN_METHOD:
            guard let returned = method.decoded?.assumingMemoryBound(to: amqp_basic_return_t.self).pointee else { return }
            try markReturned(returned, channel: frame.channel)
        case AMQP_BASIC_CANCEL_METHOD:
            brokerCancelledConsumer(channel: frame.channel)
        case AMQP_CHANNEL_CLOSE_METHOD:
            guard let close = method.decoded?.assumingMemoryBound(to: amqp_channel_close_t.self).pointee else { return }
            let error = AMQPError(code: .channelClosed, replyCode: close.reply_code, message: close.reply_text.string)
            var ok = amqp_channel_close_ok_t()
            _ = amqp_send_method(state, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
            channelEpochs[frame.channel] = nil
            try channelClosed(frame.channel, error)
        case AMQP_CONNECTION_CLOSE_METHOD:
            guard let close = method.decoded?.assumingMemoryBound(to: amqp_connection_close_t.self).pointee else { return }
            let error = AMQPError(code: .connectionClosed, replyCode: close.reply_code, message: close.reply_text.string)
            var ok = amqp_connection_close_ok_t()
            _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
            throw error
        case AMQP_CONNECTION_BLOCKED_METHOD:
            logger.warning("AMQP broker blocked publishing (resource alarm)", metadata: ["amqp-broker": "\(configuration.redactedURL)"])
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            logger.info("AMQP broker unblocked publishing", metadata: ["amqp-broker": "\(configuration.redactedURL)"])
        default:
            return
        }
    }

    /// The body and properties that follow a `basic.deliver` or `basic.return`.
    func readContent(channel: amqp_channel_t) throws -> (Data, AMQPProperties, problem: String?) {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        var message = amqp_message_t()
        try check(amqp_read_message(state, channel, &message, 0), "reading a message body", channel: channel)
        defer { amqp_destroy_message(&message) }
        let (properties, problem) = AMQPProperties.received(message.properties)
        return (message.body.data, properties, problem)
    }

    /// The broker closed `channel` because of an operation on it: the fixed channels open again, a consumer ends.
    func channelClosed(_ channel: amqp_channel_t, _ error: AMQPError) throws {
        switch channel {
        case Channel.publish:
            try publishChannelClosed(error)
        case Channel.control:
            try openChannel(Channel.control)
        default:
            consumerChannelClosed(channel, error)
        }
    }
}

extension timeval {
    init(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
