import Logging
import Synchronization

/// What a handler gets with a job: who it is for, how many attempts came before, a logger carrying the job's
/// metadata, and the one way to send follow-up jobs.
public struct JobContext: Sendable {
    /// The role handling the job.
    public let role: WorkerRole
    /// The team the job is about.
    public let teamID: String
    /// How many times handling this job failed before (0 the first time).
    public let failedAttempts: Int
    /// The job's logger (the message's key set: `docsend-team`, `docsend-message-id`, `docsend-event`,
    /// `docsend-queue`, `docsend-role`).
    public var logger: Logger
    let queue: any JobQueueDriver
    let outcome = Outcome()

    public init(role: WorkerRole, teamID: String, failedAttempts: Int, logger: Logger, queue: any JobQueueDriver) {
        self.role = role
        self.teamID = teamID
        self.failedAttempts = failedAttempts
        self.logger = logger
        self.queue = queue
    }

    /// What the handler did with the job, for the metrics (`docsend_sync_messages_total`'s `outcome`); a job no
    /// handler reports on counts as `recorded`. The last report wins.
    public func report(_ result: HandledResult) { outcome.value.withLock { $0 = result } }

    /// The report of one job (shared by the context's copies).
    final class Outcome: Sendable {
        let value = Mutex<HandledResult?>(nil)
    }

    /// Sends a follow-up job (a re-sync tick, a lead request, a lead answer, a link refresh) to its queue, after
    /// its delay. Returns once the queue has it.
    public func send(_ job: Job) async throws { try await queue.push(job) }
}

/// What a handler did with a job it returned from.
public enum HandledResult: Sendable, Equatable {
    /// It created a Salesforce record (a Task, a Lead).
    case synced
    /// It brought an existing Task up to date.
    case updated
    /// It decided not to sync, for `reason` (a not-synced reason code such as `sync_disabled.visit`).
    case skipped(reason: String)
}

/// Handles the jobs of one role. Returning means the job's effects are durable; throwing hands the error to the
/// processor, which retries, parks or skips the job (``WorkFailure``).
public protocol JobHandler: Sendable {
    func handle(_ job: Job, context: JobContext) async throws
}
