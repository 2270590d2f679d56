import Logging

/// What a handler gets with a job: who it is for, how many attempts came before, a logger carrying the job's
/// metadata, and the one way to send follow-up jobs.
public struct JobContext: Sendable {
    /// The role handling the job.
    public let role: WorkerRole
    /// The team the job is about.
    public let teamID: String
    /// How many times handling this job failed before (0 the first time).
    public let failedAttempts: Int
    /// The job's logger (`docsend-job`, `docsend-job-id`, `docsend-team` metadata).
    public var logger: Logger
    let queue: any JobQueueDriver

    public init(role: WorkerRole, teamID: String, failedAttempts: Int, logger: Logger, queue: any JobQueueDriver) {
        self.role = role
        self.teamID = teamID
        self.failedAttempts = failedAttempts
        self.logger = logger
        self.queue = queue
    }

    /// Sends a follow-up job (a re-sync tick, a lead request, a lead answer, a link refresh) to its queue, after
    /// its delay. Returns once the queue has it.
    public func send(_ job: Job) async throws { try await queue.push(job) }
}

/// Handles the jobs of one role. Returning means the job's effects are durable; throwing hands the error to the
/// processor, which retries, parks or skips the job (``WorkFailure``).
public protocol JobHandler: Sendable {
    func handle(_ job: Job, context: JobContext) async throws
}
