import Foundation
import Logging
import Synchronization

/// A job queue in memory, for tests and for trying the workers without a broker: the same wire form as the
/// broker (every job is encoded with ``JobCoding`` when pushed and decoded when received), the same routing
/// (public events by ``WorkerRole/eventBindings``, follow-ups by ``Job/destination``), delays by sleeping, and a
/// parking lot to inspect.
///
/// Each role has a main and an overflow lane (``JobLane``); several receivers of one lane share its jobs, each with at
/// most its `prefetch` unsettled.
public final class MemoryJobQueue: JobQueueDriver {
    /// The delays of ``JobDelay``.
    public struct Delays: Sendable {
        public var resync: Duration
        public var visitorRefresh: Duration

        public init(resync: Duration, visitorRefresh: Duration) {
            self.resync = resync
            self.visitorRefresh = visitorRefresh
        }
    }

    /// A job that failed for good, as an operator would see it.
    public struct ParkedJob: Sendable {
        public let role: WorkerRole
        public let name: String?
        public let body: Data
        public let failureCode: String
        public let reason: String
        public let failures: Int
        public let teamID: String?
    }

    struct Message: Sendable {
        var name: String?
        var body: Data
        var failedAttempts: Int
        var id: String?
        /// The routing key of a raw public event (``pushRawEvent(routingKey:name:body:)``).
        var routingKey: String? = nil
    }

    final class Receiver: Sendable {
        let id = UUID()
        let role: WorkerRole
        let lane: JobLane
        let prefetch: Int
        let continuation: AsyncThrowingStream<ReceivedJob, any Error>.Continuation
        init(
            role: WorkerRole, lane: JobLane, prefetch: Int, continuation: AsyncThrowingStream<ReceivedJob, any Error>.Continuation
        ) {
            self.role = role
            self.lane = lane
            self.prefetch = prefetch
            self.continuation = continuation
        }
    }

    /// A role's lane.
    struct Lane: Hashable {
        var role: WorkerRole
        var lane: JobLane
    }

    struct State {
        var ready: [Lane: [Message]] = [:]
        var receivers: [Receiver] = []
        var unsettled: [UUID: Int] = [:]
        var delayed = 0
        var parked: [ParkedJob] = []
        var nextReceiver = 0
    }

    let delays: Delays
    private let state = Mutex(State())

    public init(delays: Delays) { self.delays = delays }

    // MARK: JobQueueDriver

    public func receive(_ role: WorkerRole, lane: JobLane, prefetch: Int, logger: Logger) async throws -> JobReceiver {
        let (stream, continuation) = AsyncThrowingStream<ReceivedJob, any Error>.makeStream()
        let receiver = Receiver(role: role, lane: lane, prefetch: max(1, prefetch), continuation: continuation)
        state.withLock {
            $0.receivers.append(receiver)
            $0.unsettled[receiver.id] = 0
        }
        dispatch()
        return JobReceiver(stream, queue: lane == .main ? role.rawValue : "\(role.rawValue).\(lane.rawValue)") { [weak self] in
            self?.state.withLock { state in state.receivers.removeAll { $0 === receiver } }
            continuation.finish()
        }
    }

    public func push(_ job: Job) async throws {
        let message = Message(name: job.name, body: try JobCoding.encode(job), failedAttempts: 0, id: job.messageID)
        guard let destination = job.destination else {
            for role in WorkerRole.allCases where role.consumes(eventType: job.name) { enqueue(message, role: role) }
            return
        }
        switch destination.delay {
        case .none: enqueue(message, role: destination.role)
        case .resync: enqueue(message, role: destination.role, after: delays.resync)
        case .visitorRefresh: enqueue(message, role: destination.role, after: delays.visitorRefresh)
        }
    }

    // MARK: For tests

    /// Puts a raw message (any name, any body: a hostile producer's) on `role`'s queue.
    public func pushRaw(name: String?, body: Data, to role: WorkerRole) {
        enqueue(Message(name: name, body: body, failedAttempts: 0, id: nil), role: role)
    }

    /// Publishes a raw public event (any name, any body) with `routingKey`, as a producer would: it reaches every
    /// role bound to the key.
    public func pushRawEvent(routingKey: String, name: String?, body: Data) {
        for role in WorkerRole.allCases where role.consumes(eventType: routingKey) {
            enqueue(Message(name: name, body: body, failedAttempts: 0, id: nil, routingKey: routingKey), role: role)
        }
    }

    /// What failed for good, oldest first.
    public var parked: [ParkedJob] { state.withLock { $0.parked } }

    /// Jobs waiting to be received, received and not settled, and waiting for their delay.
    public var counts: (ready: Int, unsettled: Int, delayed: Int) {
        state.withLock { state in
            (state.ready.values.reduce(0) { $0 + $1.count }, state.unsettled.values.reduce(0, +), state.delayed)
        }
    }

    /// Jobs waiting to be received by `role` from `lane`.
    public func ready(_ role: WorkerRole, lane: JobLane = .main) -> Int {
        state.withLock { $0.ready[Lane(role: role, lane: lane)]?.count ?? 0 }
    }

    /// Puts every parked job whose failure code starts with `codePrefix` back on its queue with its attempts
    /// reset; returns how many.
    @discardableResult
    public func replayParked(codePrefix: String = "") -> Int {
        let replayed = state.withLock { state -> [ParkedJob] in
            let chosen = state.parked.filter { $0.failureCode.hasPrefix(codePrefix) }
            state.parked.removeAll { $0.failureCode.hasPrefix(codePrefix) }
            return chosen
        }
        for job in replayed { enqueue(Message(name: job.name, body: job.body, failedAttempts: 0, id: nil), role: job.role) }
        return replayed.count
    }

    // MARK: Delivery

    private func enqueue(
        _ message: Message, role: WorkerRole, lane: JobLane = .main, after delay: Duration? = nil, atFront: Bool = false
    ) {
        if let delay {
            state.withLock { $0.delayed += 1 }
            Task {
                try? await Task.sleep(for: delay)
                self.state.withLock { $0.delayed -= 1 }
                self.enqueue(message, role: role)
            }
            return
        }
        let key = Lane(role: role, lane: lane)
        state.withLock { state in
            if atFront {
                state.ready[key, default: []].insert(message, at: 0)
            } else {
                state.ready[key, default: []].append(message)
            }
        }
        dispatch()
    }

    /// Hands ready jobs to receivers with room, round robin.
    private func dispatch() {
        let deliveries = state.withLock { state -> [(Receiver, Message)] in
            var out: [(Receiver, Message)] = []
            for key in state.ready.keys {
                while let first = state.ready[key]?.first {
                    let candidates = state.receivers.filter {
                        $0.role == key.role && $0.lane == key.lane && state.unsettled[$0.id, default: 0] < $0.prefetch
                    }
                    guard !candidates.isEmpty else { break }
                    let receiver = candidates[state.nextReceiver % candidates.count]
                    state.nextReceiver &+= 1
                    state.ready[key]?.removeFirst()
                    state.unsettled[receiver.id, default: 0] += 1
                    out.append((receiver, first))
                }
            }
            return out
        }
        for (receiver, message) in deliveries {
            let job: Result<Job, WorkFailure>
            do {
                job = .success(try JobCoding.decode(name: message.name, body: message.body))
            } catch {
                job = .failure(error)
            }
            let received = ReceivedJob(
                job: job, failedAttempts: message.failedAttempts, messageID: message.id, name: message.name,
                publicRoutingKey: message.routingKey, settlement: Settlement(queue: self, receiver: receiver, message: message))
            if case .terminated = receiver.continuation.yield(received) {
                // Its reader went away without stopping: it receives nothing more, and the job goes back.
                state.withLock { state in
                    state.receivers.removeAll { $0 === receiver }
                    state.unsettled[receiver.id, default: 1] -= 1
                }
                enqueue(message, role: receiver.role, lane: receiver.lane, atFront: true)
            }
        }
    }

    fileprivate func settled(_ receiver: Receiver) {
        state.withLock { $0.unsettled[receiver.id, default: 1] -= 1 }
        dispatch()
    }

    fileprivate func requeue(_ message: Message, role: WorkerRole, lane: JobLane = .main, after delay: Duration?) {
        enqueue(message, role: role, lane: lane, after: delay, atFront: delay == nil)
    }

    fileprivate func overflow(_ message: Message, role: WorkerRole) { enqueue(message, role: role, lane: .overflow) }

    fileprivate func park(_ job: ParkedJob) { state.withLock { $0.parked.append(job) } }

    private struct Settlement: JobSettlement {
        let queue: MemoryJobQueue
        let receiver: Receiver
        let message: Message

        func complete() { queue.settled(receiver) }

        func retry(after delay: Duration, failures: Int, failure: WorkFailure) async throws {
            var copy = message
            copy.failedAttempts = failures
            queue.requeue(copy, role: receiver.role, after: delay)
            queue.settled(receiver)
        }

        func park(failures: Int, failure: WorkFailure, reason: String) async throws {
            queue.park(
                ParkedJob(
                    role: receiver.role, name: message.name, body: message.body, failureCode: failure.code, reason: reason,
                    failures: failures, teamID: failure.teamID))
            queue.settled(receiver)
        }

        func overflow() async throws {
            queue.overflow(message, role: receiver.role)
            queue.settled(receiver)
        }

        func release() {
            queue.settled(receiver)
            queue.requeue(message, role: receiver.role, lane: receiver.lane, after: nil)
        }
    }
}
