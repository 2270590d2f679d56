import Foundation
import Logging

/// A queue of jobs per role: the broker in production (the AMQP driver, in Workers), memory in tests
/// (``MemoryJobQueue``). Modelled on swift-jobs' `JobQueueDriver`.
///
/// A driver receives a role's jobs with at most `prefetch` unsettled at once, sends follow-up jobs to their
/// queue after their delay, and settles each received job the way the ``JobProcessor`` decides: done, retried
/// after a delay, parked with its failure, moved to the role's overflow queue, or handed back untouched. Parking lives in the driver: a parked job
/// keeps its wire form, its failure and its attempts where an operator can list and replay it.
public protocol JobQueueDriver: Sendable {
    /// Starts receiving `role`'s jobs from its `lane` (its main queue, or the overflow queue where a processor moves
    /// a team's jobs beyond its share: ``TeamShares``).
    func receive(_ role: WorkerRole, lane: JobLane, prefetch: Int, logger: Logger) async throws -> JobReceiver

    /// Sends `job` to its queue (``Job/destination``; a public event to every role consuming it), delivered after
    /// its ``JobDelay``. Returns once the queue has it (on RabbitMQ: confirmed).
    func push(_ job: Job) async throws
}

/// The jobs of one role as they arrive, until ``stop()``.
public struct JobReceiver: AsyncSequence, Sendable {
    public typealias Element = ReceivedJob
    let jobs: AsyncThrowingStream<ReceivedJob, any Error>
    let stopReceiving: @Sendable () -> Void
    /// The queue the jobs come from (`docsend-queue` in logs).
    public let queue: String

    /// Jobs from `queue`, as `jobs`; `stop` asks the queue to send no more (the stream then ends).
    public init(_ jobs: AsyncThrowingStream<ReceivedJob, any Error>, queue: String, stop: @escaping @Sendable () -> Void) {
        self.jobs = jobs
        self.queue = queue
        self.stopReceiving = stop
    }

    /// Stops receiving: jobs already received still get settled; the sequence ends.
    public func stop() { stopReceiving() }

    public func makeAsyncIterator() -> AsyncThrowingStream<ReceivedJob, any Error>.AsyncIterator {
        jobs.makeAsyncIterator()
    }
}

/// One job as a queue delivered it.
public struct ReceivedJob: Sendable {
    /// The job, or why the message is not one a handler may see (it does not decode, its properties were
    /// refused, an internal job came through the public exchange): parked without reaching a handler.
    public let job: Result<Job, WorkFailure>
    /// How many times handling it failed before (0 the first time).
    public let failedAttempts: Int
    /// The message's id, for logs.
    public let messageID: String?
    /// The message's name (AMQP `type`), for logs.
    public let name: String?
    /// When a delayed job was due (sent, plus its delay), for the re-sync lag; `nil` when not known.
    public let dueAt: Date?
    /// The routing key of a message that came through the public exchange (producers' events); `nil` for the fleet's
    /// own messages. A bad event that several roles receive is parked by one of them only
    /// (``WorkerRole/parkingRole(forEventRoutedBy:)``).
    public let publicRoutingKey: String?
    /// How the queue settles it.
    public let settlement: any JobSettlement

    /// The team of a job that decoded.
    var teamID: String? { try? job.get().teamID }

    public init(
        job: Result<Job, WorkFailure>, failedAttempts: Int, messageID: String?, name: String?, dueAt: Date? = nil,
        publicRoutingKey: String? = nil, settlement: any JobSettlement
    ) {
        self.job = job
        self.failedAttempts = failedAttempts
        self.messageID = messageID
        self.name = name
        self.dueAt = dueAt
        self.publicRoutingKey = publicRoutingKey
        self.settlement = settlement
    }
}

/// Settles one received job; exactly one of these is called, once.
public protocol JobSettlement: Sendable {
    /// Done: the job leaves the queue.
    func complete()
    /// Sends a copy marked with `failure` and `failures` (failed attempts so far) back to the job's role after
    /// `delay`, then completes this one. Throws when the queue refused the copy (the caller then hands it back).
    func retry(after delay: Duration, failures: Int, failure: WorkFailure) async throws
    /// Parks a copy with `failure` (its reason in words: `reason`) and `failures`, then completes this one.
    func park(failures: Int, failure: WorkFailure, reason: String) async throws
    /// Moves the job untouched (same attempts, same properties) to its role's overflow queue, then completes this
    /// one. Throws when the queue refused the copy (the caller then keeps it).
    func overflow() async throws
    /// Hands the job back to its queue untouched (a shutdown, or the copy could not be sent).
    func release()
}
