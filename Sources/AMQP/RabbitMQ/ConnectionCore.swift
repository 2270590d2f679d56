import CRabbitMQ
import CShims
import Foundation
import Logging
import Synchronization

// All of rabbitmq-c lives in this folder. rabbitmq-c allows one thread per connection, does no
// background work and services heartbeats only inside its own calls, so one dedicated thread owns the
// connection state and loops: apply what callers asked (publishes, acks, declarations), read frames,
// wait on the socket and a wake-up pipe. Callers only touch `inbox` and the pipe.
//
// `ConnectionCore` is one type in several files, one per concern:
// - this file: the shared state, the callers' side (submitting commands, start, close);
// - `ConnectionCore+Loop.swift`: the connection thread's loop, connecting, reconnecting, frame dispatch;
// - `ConnectionCore+Publishing.swift`: publishes and publisher confirms;
// - `ConnectionCore+Consumers.swift`: consumers, deliveries and their settlement, cancel;
// - `ConnectionCore+Control.swift`: declare, inspect, purge, delete on the control channel;
// - `ConnectionCore+Errors.swift`: turning rabbitmq-c's replies into `AMQPError`s.
// Members without an access modifier are used across those files; they are still the connection thread's
// alone unless their comment says otherwise.

/// Channel numbers on every connection.
enum Channel {
    static let control: amqp_channel_t = 1
    static let publish: amqp_channel_t = 2
    static let firstConsumer: amqp_channel_t = 3
}

/// What a caller asks of the connection thread.
enum Command: Sendable {
    case publish(PendingPublish)
    case settle(Settlement, tag: UInt64, channel: amqp_channel_t, epoch: UInt64)
    case consume(ConsumerRegistration)
    case cancel(consumerID: UInt64)
    case control(ControlOperation, CheckedContinuation<ControlResult, any Error>)
}

struct Inbox: ~Copyable {
    var commands: [Command] = []
    var closing = false
    var closeWaiters: [CheckedContinuation<Void, Never>] = []
    /// Test seam: while set, the connection thread leaves commands in the inbox, so that a test can
    /// line up one batch deterministically.
    var held = false
}

/// What a first connection attempt resolved to.
enum StartOutcome {
    case pending(CheckedContinuation<Void, any Error>?)
    case done
}

// @unchecked Sendable: `inbox`, `startOutcome` and the atomics are synchronised; every other stored
// property is used only by the connection thread.
final class ConnectionCore: @unchecked Sendable {
    let configuration: AMQPConfiguration
    let logger: Logger

    let inbox = Mutex(Inbox())
    let startOutcome = Mutex(StartOutcome.pending(nil))
    let wakeSignal: WakeSignal
    let nextConsumerID = Atomic<UInt64>(0)
    let connectedFlag = Atomic<Bool>(false)
    let reconnectCount = Atomic<Int>(0)
    /// The connection thread's stack size as the thread itself sees it (0 until it runs).
    let threadStackSize = Atomic<Int>(0)
    /// The frame_max negotiated on the last connection (0 before the first).
    let negotiatedFrameMax = Atomic<Int>(0)

    // Connection thread only.
    var state: amqp_connection_state_t?
    /// Bumped whenever a channel is (re)opened; deliveries carry the epoch of their channel, so a
    /// settlement for a channel that has since closed is dropped instead of hitting a new channel.
    var epoch: UInt64 = 0
    var channelEpochs: [amqp_channel_t: UInt64] = [:]
    var nextSequence: UInt64 = 1
    var unconfirmed: [PendingPublish] = []
    var waitingToSend: [PendingPublish] = []
    var consumers: [ConsumerRegistration] = []
    var rememberedTopologies: [Topology] = []
    /// Delivered, unsettled tags per consumer channel, in delivery order.
    var unsettled: [amqp_channel_t: TagQueue] = [:]
    /// Per channel, the highest tag up to which every delivery was acked in the current batch.
    var coalescedAcks: [amqp_channel_t: UInt64] = [:]
    var lastDeadlineSweep = ContinuousClock.now

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

    /// Queues `command` for the connection thread; false once closing was asked (the caller fails it).
    func submit(_ command: Command) -> Bool {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.closing else { return false }
            inbox.commands.append(command)
            return true
        }
        if accepted { wake() }
        return accepted
    }

    func wake() {
        wakeSignal.signal()
    }

    /// Takes out of the inbox, in order, the commands `extract` recognises; leaves the others.
    func takeCommands<Taken: Sendable>(_ extract: (Command) -> Taken?) -> [Taken] {
        inbox.withLock { inbox in
            var taken: [Taken] = []
            inbox.commands.removeAll { command in
                guard let value = extract(command) else { return false }
                taken.append(value)
                return true
            }
            return taken
        }
    }

    /// Asks the thread to close and waits until it has finished (see ``AMQPConnection/close()``).
    func close() async {
        requestClose()
        await waitUntilFinished()
    }

    /// Asks the thread to close, without waiting: new commands are refused from now on.
    func requestClose() {
        inbox.withLock { $0.closing = true }
        wake()
    }

    /// Returns once the connection thread has finished (after a close), at once if it has already.
    func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyFinished = inbox.withLock { inbox -> Bool in
                if case .done = threadState { return true }
                inbox.closeWaiters.append(continuation)
                return false
            }
            if alreadyFinished { continuation.resume() }
        }
    }

    // `threadState` is read and written under the inbox lock to know whether the thread is gone.
    enum ThreadState { case running, done }
    nonisolated(unsafe) var threadState = ThreadState.running
}
