import CRabbitMQ
import CShims
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// All of rabbitmq-c lives in this folder. rabbitmq-c allows one thread per connection, does no
// background work and services heartbeats only inside its own calls, so one dedicated thread owns the
// connection state and loops: apply what callers asked (publishes, acks, declarations), read frames,
// wait on the socket and a wake-up pipe. Callers only touch `inbox` and the pipe.

/// Channel numbers on every connection.
private enum Channel {
    static let control: amqp_channel_t = 1
    static let publish: amqp_channel_t = 2
    static let firstConsumer: amqp_channel_t = 3
}

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

/// How a delivery is settled.
enum Settlement: Sendable {
    case ack, nack(requeue: Bool), reject(requeue: Bool)
}

private enum Command: Sendable {
    case publish(PendingPublish)
    case settle(Settlement, tag: UInt64, channel: amqp_channel_t, epoch: UInt64)
    case consume(ConsumerRegistration)
    case cancel(consumerID: UInt64)
    case control(ControlOperation, CheckedContinuation<ControlResult, any Error>)
}

private struct Inbox: ~Copyable {
    var commands: [Command] = []
    var closing = false
    var closeWaiters: [CheckedContinuation<Void, Never>] = []
    /// Test seam: while set, the connection thread leaves commands in the inbox, so that a test can
    /// line up one batch deterministically.
    var held = false
}

/// What a first connection attempt resolved to.
private enum StartOutcome {
    case pending(CheckedContinuation<Void, any Error>?)
    case done
}

// @unchecked Sendable: `inbox`, `startOutcome` and the atomics are synchronised; every other stored
// property is used only by the connection thread.
final class ConnectionCore: @unchecked Sendable {
    let configuration: AMQPConfiguration
    let logger: Logger

    private let inbox = Mutex(Inbox())
    private let startOutcome = Mutex(StartOutcome.pending(nil))
    private let wakeSignal: WakeSignal
    private let nextConsumerID = Atomic<UInt64>(0)
    let connectedFlag = Atomic<Bool>(false)
    let reconnectCount = Atomic<Int>(0)
    /// The connection thread's stack size as the thread itself sees it (0 until it runs).
    let threadStackSize = Atomic<Int>(0)
    /// The frame_max negotiated on the last connection (0 before the first).
    let negotiatedFrameMax = Atomic<Int>(0)

    // Connection thread only.
    private var state: amqp_connection_state_t?
    /// Bumped whenever a channel is (re)opened; deliveries carry the epoch of their channel, so a
    /// settlement for a channel that has since closed is dropped instead of hitting a new channel.
    private var epoch: UInt64 = 0
    private var channelEpochs: [amqp_channel_t: UInt64] = [:]
    private var nextSequence: UInt64 = 1
    private var unconfirmed: [PendingPublish] = []
    private var waitingToSend: [PendingPublish] = []
    private var consumers: [ConsumerRegistration] = []
    private var rememberedTopologies: [Topology] = []
    /// Delivered, unsettled tags per consumer channel, in delivery order.
    private var unsettled: [amqp_channel_t: TagQueue] = [:]
    /// Per channel, the highest tag up to which every delivery was acked in the current batch.
    private var coalescedAcks: [amqp_channel_t: UInt64] = [:]
    private var lastDeadlineSweep = ContinuousClock.now

    init(configuration: AMQPConfiguration, logger: Logger) throws {
        guard Self.frameMaxRange.contains(configuration.frameMax) else {
            throw AMQPError(
                code: .invalidArgument,
                message: "frameMax must be within \(Self.frameMaxRange.lowerBound)...\(Self.frameMaxRange.upperBound), got \(configuration.frameMax)")
        }
        wakeSignal = try WakeSignal()
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Callers' side

    /// Starts the thread and waits for the first connection attempt.
    func start() async throws {
        try await withCheckedThrowingContinuation { continuation in
            startOutcome.withLock { $0 = .pending(continuation) }
            let thread = Thread { [self] in
                self.threadStackSize.store(Int(dss_current_thread_stack_size()), ordering: .relaxed)
                self.run()
            }
            thread.name = "docsend-sync.amqp"
            thread.stackSize = Self.stackSize(frameMax: configuration.frameMax)
            thread.start()
        }
    }

    /// The frame sizes we agree to: AMQP's minimum, up to 1 MiB (which bounds the thread's stack below).
    static let frameMaxRange = 4096...1_048_576

    /// The connection thread's stack: enough for rabbitmq-c to decode the most deeply nested field
    /// table that fits in one frame, plus our own frames.
    ///
    /// rabbitmq-c 0.11 decodes tables recursively (`amqp_decode_table` → `amqp_decode_field_value` →
    /// `amqp_decode_array` / `amqp_decode_table`), on this thread, when a content header frame arrives,
    /// before we see anything. It refuses frames larger than the negotiated frame_max, which is at most
    /// what we propose (`configuration.frameMax`; the broker may only lower it) — but the
    /// `connection.start` frame comes before that negotiation, under rabbitmq-c's initial 131,072.
    /// The cheapest nesting level on the wire is an array inside an array: type `A` (1 byte) + length
    /// (4 bytes) = 5 bytes (a table inside a table costs 6: empty key length, `F`, length). So a frame
    /// holds at most frame_max / 5 levels: 26,214 for the default 131,072. Debian's x86_64 build uses
    /// 96 bytes of stack per array level (6 saved registers, 40 bytes of locals, the return address;
    /// tables: 112, from `objdump -d librabbitmq.so.4`); unoptimised, sanitised or other-architecture
    /// builds use several times more, so we budget 512 bytes per level: 13.4 MB for 131,072 (1 MiB
    /// frames: 107 MB), plus 1 MiB for our own frames (the Swift conversion is depth-limited, see
    /// `HeaderReader`). It is address space: pages are only touched as deep as a message really nests.
    /// The platform default (8 MiB with glibc's usual `ulimit -s`, far less with musl or a lowered
    /// limit) is not something a decoder of hostile input can rely on.
    static func stackSize(frameMax: Int) -> Int {
        let bytesPerLevel = 512
        let levels = max(frameMax, 131_072) / 5
        let ownFrames = 1 << 20
        // Page-aligned, as pthread_attr_setstacksize may require.
        return (ownFrames + levels * bytesPerLevel + 4095) / 4096 * 4096
    }

    /// Test seam: while `held`, the connection thread takes no command from the inbox, so commands
    /// submitted meanwhile are applied as one batch once released.
    func holdCommands(_ held: Bool) {
        inbox.withLock { $0.held = held }
        if !held { wake() }
    }

    /// Test seam: how many commands wait in the inbox.
    var queuedCommandCount: Int { inbox.withLock { $0.commands.count } }

    private func submit(_ command: Command) -> Bool {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.closing else { return false }
            inbox.commands.append(command)
            return true
        }
        if accepted { wake() }
        return accepted
    }

    private func wake() {
        wakeSignal.signal()
    }

    func publish(_ message: AMQPMessage) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let pending = PendingPublish(
                message: message, deadline: .now + configuration.publishTimeout, continuation: continuation)
            if !submit(.publish(pending)) {
                continuation.resume(throwing: AMQPError(code: .closed, message: "the connection is closed"))
            }
        }
    }

    func settle(_ settlement: Settlement, tag: UInt64, channel: UInt16, epoch: UInt64) {
        _ = submit(.settle(settlement, tag: tag, channel: channel, epoch: epoch))
    }

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

    func cancelConsumer(id: UInt64) {
        _ = submit(.cancel(consumerID: id))
    }

    func control(_ operation: ControlOperation) async throws -> ControlResult {
        try await withCheckedThrowingContinuation { continuation in
            if !submit(.control(operation, continuation)) {
                continuation.resume(throwing: AMQPError(code: .closed, message: "the connection is closed"))
            }
        }
    }

    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyFinished = inbox.withLock { inbox -> Bool in
                inbox.closing = true
                if case .done = threadState { return true }
                inbox.closeWaiters.append(continuation)
                return false
            }
            if alreadyFinished { continuation.resume() } else { wake() }
        }
    }

    // `threadState` is read under the inbox lock to know whether the thread is gone.
    private enum ThreadState { case running, done }
    private nonisolated(unsafe) var threadState = ThreadState.running

    // MARK: The connection thread

    private func run() {
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
                let delay = backoff(failures)
                logger.warning(
                    "AMQP connection lost, reconnecting",
                    metadata: ["amqp-error": "\(error)", "amqp-retry-in-ms": "\(delay.milliseconds)", "amqp-broker": "\(configuration.redactedURL)"])
                guard waitForWake(timeoutMs: delay.milliseconds) else { break }
            }
        }
        finishThread()
    }

    private var closingRequested: Bool { inbox.withLock { $0.closing } }

    /// Resolves `start()`'s wait with the first attempt's outcome; returns whether this was the first.
    @discardableResult
    private func resolveStart(_ error: (any Error)?) -> Bool {
        let continuation: CheckedContinuation<Void, any Error>?? = startOutcome.withLock { outcome in
            guard case .pending(let continuation) = outcome else { return .none }
            outcome = .done
            return .some(continuation)
        }
        guard case .some(let waiting) = continuation else { return false }
        if let error { waiting?.resume(throwing: error) } else { waiting?.resume() }
        return true
    }

    private func backoff(_ failures: Int) -> Duration {
        let (initial, maximum) = configuration.reconnectDelay
        let exponent = min(failures - 1, 16)
        let base = min(initial * (1 << exponent), maximum)
        return base * Double.random(in: 0.5...1.0)
    }

    private func finishThread() {
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

    private func fail(_ command: Command, with error: AMQPError) {
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

    private func connect() throws {
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
            if let client = configuration.clientCertificate {
                try check(amqp_ssl_socket_set_key(socket, client.certificate, client.key), "reading client certificate", code: .connectionFailed)
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
        logger.debug("AMQP connected", metadata: ["amqp-broker": "\(configuration.redactedURL)"])
        // Publishes that were unconfirmed when the previous connection broke go out again.
        let resend = unconfirmed + waitingToSend
        unconfirmed.removeAll()
        waitingToSend = resend
    }

    private func openChannel(_ channel: amqp_channel_t) throws {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        _ = amqp_channel_open(state, channel)
        try check(amqp_get_rpc_reply(state), "opening channel \(channel)", channel: channel)
        epoch += 1
        channelEpochs[channel] = epoch
        unsettled[channel] = nil
        coalescedAcks[channel] = nil
    }

    private func selectConfirms() throws {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        _ = amqp_confirm_select(state, Channel.publish)
        try check(amqp_get_rpc_reply(state), "enabling publisher confirms", channel: Channel.publish)
        nextSequence = 1
    }

    private func startConsuming(_ consumer: ConsumerRegistration) throws {
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

    // MARK: Serving

    private func serve() throws {
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
    private func drainBeforeClose() throws {
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
    private func putBack(_ commands: ArraySlice<Command>) {
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
    private func apply(_ command: Command) throws {
        switch command {
        case .publish(let pending):
            waitingToSend.append(pending)
        case .settle(let settlement, let tag, let channel, let deliveryEpoch):
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
        case .consume(let registration):
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
        case .cancel(let id):
            if let consumer = consumers.first(where: { $0.id == id }), !consumer.cancelling { try cancel(consumer) }
        case .control(let operation, let continuation):
            do {
                continuation.resume(returning: try perform(operation))
            } catch let error as AMQPError where error.code == .channelClosed {
                continuation.resume(throwing: error)
            } catch {
                continuation.resume(throwing: error)
                throw error
            }
        }
    }

    private func flushCoalescedAcks() throws {
        guard let state, !coalescedAcks.isEmpty else { return }
        for (channel, tag) in coalescedAcks where channelEpochs[channel] != nil {
            try check(amqp_basic_ack(state, channel, tag, 1), "acknowledging up to \(tag)", code: .connectionClosed)
        }
        coalescedAcks.removeAll(keepingCapacity: true)
    }

    private func cancel(_ consumer: ConsumerRegistration) throws {
        consumer.cancelling = true
        guard let state else { return }
        let arena = CArena()
        _ = amqp_basic_cancel(state, consumer.channel, arena.bytes(consumer.consumerTag))
        try check(amqp_get_rpc_reply(state), "cancelling consumer on \(consumer.queue)", channel: consumer.channel)
        // The channel stays open so that deliveries already handed out can still be settled.
        consumer.deliveries.finish()
    }

    private func perform(_ operation: ControlOperation) throws -> ControlResult {
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

    private func declare(_ topology: Topology) throws {
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

    private func sendWaitingPublishes() throws {
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

    private func sweepDeadlines(force: Bool = false) {
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

    // MARK: Frames

    /// The next frame already received or readable now; `nil` when there is none. Sends heartbeats when due.
    private func nextFrame() throws -> amqp_frame_t? {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &immediately)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        try check(status, "reading from the broker", code: .connectionClosed)
        return frame
    }

    /// Sleeps until the socket is readable, a caller wakes us, or it is time to look at heartbeats.
    private func waitForActivity() throws {
        guard let state else { return }
        if amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 { return }
        let heartbeat = amqp_get_heartbeat(state)
        let timeoutMs = heartbeat > 0 ? min(1000, Int(heartbeat) * 250) : 1000
        var descriptors = [
            pollfd(fd: amqp_get_sockfd(state), events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeSignal.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        _ = poll(&descriptors, 2, Int32(timeoutMs))
        if descriptors[1].revents != 0 { drainWakePipe() }
    }

    /// Waits `timeoutMs` between reconnection attempts; returns false as soon as closing is asked.
    /// Publishes that arrive meanwhile are queued for sending and still fail at their publish timeout.
    private func waitForWake(timeoutMs: Int) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while ContinuousClock.now < deadline {
            if closingRequested { return false }
            takePublishesWhileDisconnected()
            cancelConsumersWhileDisconnected()
            sweepDeadlines(force: true)
            var descriptor = pollfd(fd: wakeSignal.descriptor, events: Int16(POLLIN), revents: 0)
            let remaining = max(1, (deadline - ContinuousClock.now).milliseconds)
            _ = poll(&descriptor, 1, Int32(remaining))
            if descriptor.revents != 0 { drainWakePipe() }
        }
        return !closingRequested
    }

    /// A consumer cancelled while the broker is away ends at once: there is nothing to tell the broker (its
    /// channel is gone, so its deliveries are back in the queue), and it is not started again on reconnect.
    /// (A worker draining on SIGTERM does not wait for the broker to come back.)
    private func cancelConsumersWhileDisconnected() {
        let cancelled: [UInt64] = inbox.withLock { inbox in
            var ids: [UInt64] = []
            inbox.commands.removeAll { command in
                guard case .cancel(let id) = command else { return false }
                ids.append(id)
                return true
            }
            return ids
        }
        for id in cancelled {
            guard let index = consumers.firstIndex(where: { $0.id == id }) else { continue }
            consumers.remove(at: index).deliveries.finish()
        }
    }

    private func takePublishesWhileDisconnected() {
        let publishes: [PendingPublish] = inbox.withLock { inbox in
            var taken: [PendingPublish] = []
            inbox.commands.removeAll { command in
                guard case .publish(let pending) = command else { return false }
                taken.append(pending)
                return true
            }
            return taken
        }
        waitingToSend.append(contentsOf: publishes)
    }

    private func drainWakePipe() { wakeSignal.drain() }

    private func dispatch(_ frame: amqp_frame_t) throws {
        guard let state else { return }
        defer { amqp_maybe_release_buffers_on_channel(state, frame.channel) }
        guard frame.frame_type == AMQP_FRAME_METHOD else { return }
        let method = frame.payload.method
        switch method.id {
        case AMQP_BASIC_DELIVER_METHOD:
            guard let deliver = method.decoded?.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee else { return }
            let tag = deliver.delivery_tag
            let redelivered = deliver.redelivered != 0
            let exchange = deliver.exchange.string
            let routingKey = deliver.routing_key.string
            let (body, properties, problem) = try readContent(channel: frame.channel)
            guard let consumer = consumers.first(where: { $0.channel == frame.channel }),
                let channelEpoch = channelEpochs[frame.channel]
            else { return }
            unsettled[frame.channel, default: TagQueue()].append(tag)
            if let problem {
                logger.warning(
                    "AMQP delivery with malformed properties: headers dropped",
                    metadata: ["amqp-queue": "\(consumer.queue)", "amqp-delivery-tag": "\(tag)", "amqp-properties-problem": "\(problem)"])
            }
            let delivery = AMQPDelivery(
                body: body, properties: properties, propertiesProblem: problem, exchange: exchange, routingKey: routingKey, redelivered: redelivered,
                deliveryTag: tag, settler: .init(core: self, channel: frame.channel, epoch: channelEpoch))
            if case .terminated = consumer.deliveries.yield(delivery) {
                // Nobody reads this consumer any more: it was cancelled and the broker's delivery crossed
                // the `basic.cancel`, or its reader went away. Nothing would settle it, and the channel
                // stays open, so it would sit unacknowledged until the connection closes: hand it back.
                unsettled[frame.channel]?.remove(tag)
                try check(
                    amqp_basic_reject(state, frame.channel, tag, 1), "handing back delivery \(tag)", code: .connectionClosed)
            }
        case AMQP_BASIC_ACK_METHOD:
            guard let ack = method.decoded?.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee else { return }
            confirm(upTo: ack.delivery_tag, multiple: ack.multiple != 0, nacked: false)
        case AMQP_BASIC_NACK_METHOD:
            guard let nack = method.decoded?.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee else { return }
            confirm(upTo: nack.delivery_tag, multiple: nack.multiple != 0, nacked: true)
        case AMQP_BASIC_RETURN_METHOD:
            guard let returned = method.decoded?.assumingMemoryBound(to: amqp_basic_return_t.self).pointee else { return }
            let error = AMQPError(
                code: .unroutable, replyCode: returned.reply_code,
                message: "\(returned.reply_text.string): no queue is bound to exchange '\(returned.exchange.string)' for routing key '\(returned.routing_key.string)'")
            let exchange = returned.exchange.string
            let routingKey = returned.routing_key.string
            let (_, properties, _) = try readContent(channel: frame.channel)
            // The return comes before the confirm of the same message; mark the oldest matching publish.
            if let pending = unconfirmed.first(where: {
                $0.returned == nil && $0.message.exchange == exchange && $0.message.routingKey == routingKey
                    && $0.message.properties.messageID == properties.messageID
            }) {
                pending.returned = error
            }
        case AMQP_BASIC_CANCEL_METHOD:
            // The broker cancelled a consumer (its queue was deleted, or a failover).
            guard let consumer = consumers.first(where: { $0.channel == frame.channel }) else { return }
            consumers.removeAll { $0 === consumer }
            consumer.deliveries.finish(
                throwing: AMQPError(code: .channelClosed, message: "the broker cancelled the consumer of queue \(consumer.queue)"))
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

    private func readContent(channel: amqp_channel_t) throws -> (Data, AMQPProperties, problem: String?) {
        guard let state else { throw AMQPError(code: .connectionClosed, message: "not connected") }
        var message = amqp_message_t()
        try check(amqp_read_message(state, channel, &message, 0), "reading a message body", channel: channel)
        defer { amqp_destroy_message(&message) }
        let (properties, problem) = AMQPProperties.received(message.properties)
        return (message.body.data, properties, problem)
    }

    private func confirm(upTo tag: UInt64, multiple: Bool, nacked: Bool) {
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

    private func channelClosed(_ channel: amqp_channel_t, _ error: AMQPError) throws {
        switch channel {
        case Channel.publish:
            // Unconfirmed publishes to the exchange the broker names failed; the others go out again.
            let failed = unconfirmed.filter { error.message.contains("'\($0.message.exchange)'") }
            for pending in failed { pending.continuation.resume(throwing: error) }
            let retry = unconfirmed.filter { pending in !failed.contains { $0 === pending } }
            unconfirmed.removeAll()
            waitingToSend = retry + waitingToSend
            try openChannel(Channel.publish)
            try selectConfirms()
        case Channel.control:
            try openChannel(Channel.control)
        default:
            guard let consumer = consumers.first(where: { $0.channel == channel }) else { return }
            consumers.removeAll { $0 === consumer }
            consumer.deliveries.finish(throwing: error)
        }
    }

    // MARK: Errors

    /// Throws for a failed RPC, after reopening the channel the broker closed (so the connection stays usable).
    private func check(_ reply: amqp_rpc_reply_t, _ context: String, channel: amqp_channel_t? = nil, code: AMQPError.Code = .connectionClosed) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let text = String(cString: amqp_error_string2(reply.library_error))
            throw AMQPError(code: code, message: "\(context): \(text)")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            guard let state else { throw AMQPError(code: .connectionClosed, message: context) }
            switch reply.reply.id {
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = reply.reply.decoded?.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                var ok = amqp_channel_close_ok_t()
                let closedChannel = channel ?? Channel.control
                _ = amqp_send_method(state, closedChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
                channelEpochs[closedChannel] = nil
                let error = AMQPError(
                    code: .channelClosed, replyCode: close?.reply_code, message: "\(context): \(close?.reply_text.string ?? "channel closed")")
                if closedChannel == Channel.control || closedChannel == Channel.publish {
                    try openChannel(closedChannel)
                    if closedChannel == Channel.publish { try selectConfirms() }
                }
                throw error
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = reply.reply.decoded?.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                var ok = amqp_connection_close_ok_t()
                _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
                throw AMQPError(
                    code: code == .connectionFailed ? .connectionFailed : .connectionClosed, replyCode: close?.reply_code,
                    message: "\(context): \(close?.reply_text.string ?? "connection closed")")
            default:
                throw AMQPError(code: code, message: "\(context): unexpected broker method \(reply.reply.id)")
            }
        default:
            throw AMQPError(code: code, message: "\(context): the broker closed the connection")
        }
    }

    private func check(_ status: Int32, _ context: String, code: AMQPError.Code) throws {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        throw AMQPError(code: code, message: "\(context): \(String(cString: amqp_error_string2(status)))")
    }

    /// Drops the broken connection; what was sent and unconfirmed will be sent again.
    private func teardown(after error: any Error) {
        if let state {
            amqp_destroy_connection(state)
            self.state = nil
        }
        channelEpochs.removeAll()
        unsettled.removeAll()
        coalescedAcks.removeAll()
        waitingToSend = unconfirmed + waitingToSend
        unconfirmed.removeAll()
        // A consumer whose cancel was under way is done: its stream ends (if the connection broke
        // before `basic.cancel-ok`, nothing else would end it) and it does not start again.
        for consumer in consumers where consumer.cancelling {
            consumers.removeAll { $0 === consumer }
            consumer.deliveries.finish()
        }
    }
}

extension timeval {
    init(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
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
