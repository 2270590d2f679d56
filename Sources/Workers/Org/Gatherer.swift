import Synchronization

/// Gathers the requests that jobs in flight make at about the same time into one call, group-commit style.
///
/// A batch is ready when it holds ``limit`` requests, when no request has joined it for ``window`` (the requests
/// stopped coming), or when its first request has waited ``maxWait`` (they keep coming). A ready batch goes at
/// once unless ``callsInFlight`` calls are already out; then it keeps gathering until one comes back. So the
/// slower Salesforce answers, the fuller each call, and one org never has more than ``callsInFlight`` calls of a
/// kind out from one process. Each caller waits for its own result only: a job is settled on its own record's
/// outcome.
///
/// In a burst the jobs of one org reach the same step one after the other and share each call (one query for 200
/// emails, one sObject Collections upsert for 200 Tasks); a lone request waits one ``window``. A ``window`` of zero
/// makes every request ready at once (with a free call, it goes alone).
final class Gatherer<Request: Sendable, Response: Sendable>: Sendable {
    /// Makes the call for a batch: one result per request, in order.
    typealias Call = @Sendable ([Request]) async -> [Result<Response, any Error>]

    private struct Waiting {
        var request: Request
        var continuation: CheckedContinuation<Response, any Error>
    }

    private struct Pending {
        var waiting: [Waiting] = []
        /// Counts the batches opened, so that a batch's timer only marks its own batch ready.
        var generation = 0
        var opened = ContinuousClock.now
        var lastJoined = ContinuousClock.now
        /// The waiting requests have waited enough: they go with the next free call.
        var ready = false
        var inFlight = 0
    }

    let window: Duration
    let maxWait: Duration
    let limit: Int
    let callsInFlight: Int
    private let call: Call
    private let pending = Mutex(Pending())

    /// A gatherer sending batches of at most `limit` requests through `call`, at most `callsInFlight` at a time,
    /// each gathered while requests keep joining within `window` of each other, for `maxWait` at most.
    init(window: Duration, maxWait: Duration, limit: Int, callsInFlight: Int = 2, call: @escaping Call) {
        precondition(limit > 0 && callsInFlight > 0, "a batch holds at least one request, and one call can go")
        self.window = window
        self.maxWait = maxWait
        self.limit = limit
        self.callsInFlight = callsInFlight
        self.call = call
    }

    /// Sends `request` with the others gathered with it and returns its own result.
    func submit(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            var timer: Int?
            let batches = pending.withLock { pending -> [[Waiting]] in
                let now = ContinuousClock.now
                pending.waiting.append(Waiting(request: request, continuation: continuation))
                pending.lastJoined = now
                if pending.waiting.count == 1 {
                    pending.opened = now
                    pending.generation += 1
                    pending.ready = window <= .zero
                    if !pending.ready { timer = pending.generation }
                }
                return takeReady(&pending)
            }
            for batch in batches { Task { await send(batch) } }
            if let timer { Task { await markReady(generation: timer) } }
        }
    }

    /// How many requests wait for a call (for tests and logs).
    var waitingCount: Int { pending.withLock { $0.waiting.count } }

    /// The batches that may go now, each counted in flight.
    private func takeReady(_ pending: inout Pending) -> [[Waiting]] {
        var batches: [[Waiting]] = []
        while pending.inFlight < callsInFlight, pending.ready || pending.waiting.count >= limit, !pending.waiting.isEmpty {
            let count = min(limit, pending.waiting.count)
            batches.append(Array(pending.waiting.prefix(count)))
            pending.waiting.removeFirst(count)
            pending.inFlight += 1
            // What is left waited as long as what went: it is ready too. Emptied, the batch is done.
            if pending.waiting.isEmpty { pending.ready = false }
        }
        return batches
    }

    /// Waits until the batch `generation` is gathered (quiet for ``window``, or open for ``maxWait``), marks it
    /// ready and sends what a free call can take.
    private func markReady(generation: Int) async {
        while true {
            let due = pending.withLock { pending -> ContinuousClock.Instant? in
                guard pending.generation == generation, !pending.waiting.isEmpty, !pending.ready else { return nil }
                return min(pending.lastJoined + window, pending.opened + maxWait)
            }
            guard let due else { return }
            if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
            let batches = pending.withLock { pending -> [[Waiting]]? in
                guard pending.generation == generation, !pending.waiting.isEmpty, !pending.ready else { return [] }
                let now = ContinuousClock.now
                guard now >= pending.lastJoined + window || now >= pending.opened + maxWait else { return nil }
                pending.ready = true
                return takeReady(&pending)
            }
            if let batches {
                for batch in batches { Task { await send(batch) } }
                return
            }
        }
    }

    private func send(_ batch: [Waiting]) async {
        let results = await call(batch.map(\.request))
        for (index, waiting) in batch.enumerated() {
            guard index < results.count else {
                waiting.continuation.resume(
                    throwing: GathererError(message: "the batch call answered \(results.count) of \(batch.count) requests"))
                continue
            }
            waiting.continuation.resume(with: results[index])
        }
        let next = pending.withLock { pending -> [[Waiting]] in
            pending.inFlight -= 1
            return takeReady(&pending)
        }
        for batch in next { Task { await send(batch) } }
    }
}

/// A batch call that broke its promise of one result per request.
struct GathererError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
