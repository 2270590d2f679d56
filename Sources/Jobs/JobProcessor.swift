import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs one role's jobs from a queue driver through its handler, with at most ``Configuration/concurrency`` in
/// work at once, and settles each: done, retried after the strategy's next delay, parked, or (nothing anyone
/// could act on) skipped. A bad job never stalls the queue.
///
/// One team never holds more than ``Configuration/teamConcurrency`` of the places: its jobs beyond that go to the
/// role's overflow queue and come back from there as its places free (``TeamShares``), so another team's job never
/// waits behind its burst.
///
/// It runs as a `Service`: a graceful shutdown (SIGTERM) stops receiving, lets the jobs in work finish and
/// settle, and hands the ones not started back to the queue.
public struct JobProcessor: Service {
    /// How a processor works.
    public struct Configuration: Sendable {
        /// Jobs in work at once.
        public var concurrency: Int
        /// Jobs of one team in work at once (at most `concurrency`; ``TeamShares``). The overflow queue's prefetch.
        public var teamConcurrency: Int
        /// Jobs received from the main queue and not settled at once (at least `concurrency`).
        public var prefetch: Int
        /// When a failure that may pass is tried again.
        public var retry: RetryStrategy

        /// `teamConcurrency` defaults to half of `concurrency`.
        public init(concurrency: Int, teamConcurrency: Int? = nil, prefetch: Int, retry: RetryStrategy) {
            self.concurrency = max(1, concurrency)
            self.teamConcurrency = min(self.concurrency, max(1, teamConcurrency ?? self.concurrency / 2))
            self.prefetch = min(Int(UInt16.max), max(prefetch, self.concurrency))
            self.retry = retry
        }
    }

    /// Decides what an error thrown by a handler means (the fleet's ``WorkFailure`` classification).
    public typealias Classifier = @Sendable (_ error: any Error, _ teamID: String?) -> WorkFailure
    /// Whether a failed job may be parked (`false`: completed and counted as dropped). The fleet bounds how many
    /// jobs a team waiting for a new login keeps parked.
    public typealias ParkingAdmission = @Sendable (_ failure: WorkFailure, _ logger: Logger) async -> Bool

    public let role: WorkerRole
    /// Whether it is consuming (for readiness checks).
    public let status = ProcessorStatus()
    let queue: any JobQueueDriver
    let handler: any JobHandler
    let configuration: Configuration
    let classify: Classifier
    let admitParking: ParkingAdmission
    let logger: Logger

    public init(
        role: WorkerRole, queue: any JobQueueDriver, handler: any JobHandler, configuration: Configuration,
        classify: @escaping Classifier, admitParking: @escaping ParkingAdmission = { _, _ in true }, logger: Logger
    ) {
        self.role = role
        self.queue = queue
        self.handler = handler
        self.configuration = configuration
        self.classify = classify
        self.admitParking = admitParking
        var logger = logger
        logger[metadataKey: "docsend-role"] = .string(role.rawValue)
        self.logger = logger
    }

    /// What the processor's loop reacts to.
    enum Event {
        /// A lane delivered a job.
        case delivered(ReceivedJob, JobLane)
        /// A started job was settled.
        case finished(team: String?)
        /// A job was moved to the overflow queue (`nil`), or could not be and waits here instead.
        case moved(kept: ReceivedJob?)
        /// A lane's deliveries ended (the error when its connection failed).
        case ended(JobLane, (any Error)?)
        /// A graceful shutdown began.
        case drain
    }

    public func run() async throws {
        let main = try await queue.receive(role, lane: .main, prefetch: configuration.prefetch, logger: logger)
        let overflow = try await queue.receive(role, lane: .overflow, prefetch: configuration.teamConcurrency, logger: logger)
        let logger = self.logger.with("docsend-queue", main.queue)
        status.set(.consuming)
        defer { status.set(.stopped) }
        logger.info(
            "processing jobs",
            metadata: [
                "docsend-concurrency": "\(configuration.concurrency)", "docsend-team-concurrency": "\(configuration.teamConcurrency)",
                "docsend-prefetch": "\(configuration.prefetch)",
            ])
        let (events, sink) = AsyncStream<Event>.makeStream()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for (lane, receiver) in [(JobLane.main, main), (.overflow, overflow)] {
                    group.addTask {
                        do {
                            for try await received in receiver { sink.yield(.delivered(received, lane)) }
                            sink.yield(.ended(lane, nil))
                        } catch {
                            sink.yield(.ended(lane, error))
                        }
                    }
                }
                var shares = TeamShares<ReceivedJob>(perTeam: configuration.teamConcurrency, total: configuration.concurrency)
                var receiving = 2
                var moving = 0
                var draining = false
                for await event in events {
                    switch event {
                    case .delivered(let received, _) where draining:
                        received.settlement.release()
                    case .delivered(let received, let lane):
                        if shares.offer(received, team: received.teamID, lane: lane) == .overflow {
                            moving += 1
                            group.addTask { sink.yield(.moved(kept: await moveToOverflow(received, logger: logger))) }
                        }
                    case .moved(let kept):
                        moving -= 1
                        guard let kept else { break }
                        if draining {
                            kept.settlement.release()
                        } else {
                            _ = shares.offer(kept, team: kept.teamID, lane: .overflow)
                        }
                    case .finished(let team):
                        shares.finished(team: team)
                    case .ended(_, let error?):
                        throw error
                    case .ended(_, nil):
                        receiving -= 1
                    case .drain:
                        draining = true
                        for received in shares.removeWaiting() { received.settlement.release() }
                    }
                    while !draining, let next = shares.next() {
                        group.addTask {
                            await process(next.element, logger: logger)
                            sink.yield(.finished(team: next.team))
                        }
                    }
                    if receiving == 0, moving == 0, shares.inWork == 0 { break }
                }
            }
        } onGracefulShutdown: {
            status.set(.draining)
            sink.yield(.drain)
            main.stop()
            overflow.stop()
        }
        logger.info("drained and stopped")
    }

    /// Moves a job of a team beyond its share to the overflow queue; returns it when the queue refused the copy (it
    /// then waits in this processor instead).
    func moveToOverflow(_ received: ReceivedJob, logger: Logger) async -> ReceivedJob? {
        do {
            try await received.settlement.overflow()
            JobMetrics.countOverflowed(role: role)
            return nil
        } catch {
            logger.warning(
                "could not move a job beyond its team's share to the overflow queue; it waits here",
                metadata: ["docsend-error": "\(error)"])
            return received
        }
    }

    /// Runs the handler on one job and settles it.
    func process(_ received: ReceivedJob, logger: Logger) async {
        let started = ContinuousClock.now
        // The decoded job's own name; for one that did not decode, its `type` property if it is one of the fleet's.
        let event = (try? received.job.get().name) ?? JobMetrics.eventLabel(received.name)
        defer { JobMetrics.recordDuration(role: role, event: event, since: started) }
        var logger = logger
        if let id = received.messageID { logger[metadataKey: "docsend-message-id"] = .string(id) }
        if let name = received.name { logger[metadataKey: "docsend-event"] = .string(name) }
        let job: Job
        switch received.job {
        case .success(let decoded): job = decoded
        case .failure(let failure):
            await settle(received, failure: parkedOnce(failure, received), event: event, logger: logger)
            return
        }
        logger[metadataKey: "docsend-team"] = .string(job.teamID)
        if case .visitResync = job, let due = received.dueAt { JobMetrics.recordResyncLag(due: due) }
        let context = JobContext(
            role: role, teamID: job.teamID, failedAttempts: received.failedAttempts, logger: logger, queue: queue)
        let inWork = JobMetrics.inWork(role: role)
        inWork.increment()
        defer { inWork.decrement() }
        do {
            try await handler.handle(job, context: context)
            received.settlement.complete()
            switch context.outcome.value.withLock({ $0 }) {
            case nil: JobMetrics.count(role: role, event: event, outcome: .recorded)
            case .synced: JobMetrics.count(role: role, event: event, outcome: .synced)
            case .updated: JobMetrics.count(role: role, event: event, outcome: .updated)
            case .skipped(let reason): JobMetrics.count(role: role, event: event, outcome: .skipped, reason: reason)
            }
        } catch {
            if Task.isCancelled {
                // Stopping without a graceful drain: the job goes back untouched.
                received.settlement.release()
                return
            }
            await settle(received, failure: classify(error, job.teamID), event: event, logger: logger)
        }
    }

    /// `failure` of a message that did not reach a handler, or, when it is a public event another role also received
    /// and parks (``WorkerRole/parkingRole(forEventRoutedBy:)``), a skip saying so: each bad event is parked once.
    func parkedOnce(_ failure: WorkFailure, _ received: ReceivedJob) -> WorkFailure {
        guard failure.disposition == .park, let key = received.publicRoutingKey,
            let owner = WorkerRole.parkingRole(forEventRoutedBy: key), owner != role
        else { return failure }
        return .skipped(
            code: "parked_by_\(owner.rawValue)", "\(failure.code): the \(owner.rawValue) role, which receives it too, parks it")
    }

    /// Retries, parks, skips or drops a failed job; hands it back when the queue refuses the copy.
    func settle(_ received: ReceivedJob, failure: WorkFailure, event: String, logger: Logger) async {
        var logger = logger
        logger[metadataKey: "docsend-failure"] = .string(failure.code)
        if failure.disposition == .skip {
            logger.debug("acknowledged without syncing", metadata: ["docsend-reason": "\(failure.message)"])
            received.settlement.complete()
            JobMetrics.count(role: role, event: event, outcome: .skipped, reason: failure.code)
            return
        }
        if failure.disposition == .wait,
            let delay = configuration.retry.delay(forWaiting: failure.retryAfter ?? .zero)
        {
            do {
                // The attempt does not count: the same number of failures goes with the copy.
                try await received.settlement.retry(after: delay, failures: received.failedAttempts, failure: failure)
                logger.debug("waits: its org is paused", metadata: ["docsend-in": "\(delay)", "docsend-reason": "\(failure.message)"])
                JobMetrics.count(role: role, event: event, outcome: .deferred, reason: failure.code)
            } catch {
                logger.error("could not send the job to wait; handed back", metadata: ["docsend-error": "\(error)"])
                received.settlement.release()
            }
            return
        }
        let failures = received.failedAttempts + 1
        logger[metadataKey: "docsend-attempts"] = "\(failures)"
        do {
            if failure.disposition == .retry, let delay = configuration.retry.delay(afterFailures: failures) {
                try await received.settlement.retry(after: delay, failures: failures, failure: failure)
                logger.warning("will retry", metadata: ["docsend-in": "\(delay)", "docsend-reason": "\(failure.message)"])
                JobMetrics.count(role: role, event: event, outcome: .retried, reason: failure.code)
                return
            }
            guard await admitParking(failure, logger) else {
                logger.warning("dropped: the team already keeps as many parked jobs as it may until its next login")
                received.settlement.complete()
                JobMetrics.count(role: role, event: event, outcome: .dropped, reason: failure.code)
                return
            }
            let reason =
                failure.disposition == .retry
                ? "retries exhausted after \(failures) attempts: \(failure.message)" : failure.message
            try await received.settlement.park(failures: failures, failure: failure, reason: reason)
            logger.error("parked", metadata: ["docsend-reason": "\(reason)"])
            JobMetrics.count(role: role, event: event, outcome: .parked, reason: failure.code)
        } catch {
            logger.error("could not send the job to retry or parking; handed back", metadata: ["docsend-error": "\(error)"])
            received.settlement.release()
        }
    }
}

/// Where a ``JobProcessor`` stands, for readiness checks: shared by the processor's copies.
public final class ProcessorStatus: Sendable {
    public enum State: String, Sendable {
        /// Not consuming yet.
        case starting
        /// Receiving and handling jobs.
        case consuming
        /// Finishing the jobs in work after a graceful shutdown began.
        case draining
        /// Its run ended.
        case stopped
    }

    private let state = Mutex(State.starting)

    public init() {}

    /// The state now.
    public var current: State { state.withLock { $0 } }

    func set(_ new: State) { state.withLock { $0 = new } }
}

extension Logger {
    /// This logger with `key` set to `value`.
    func with(_ key: String, _ value: String) -> Logger {
        var logger = self
        logger[metadataKey: key] = .string(value)
        return logger
    }
}
