import Synchronization

/// Gathers the requests that jobs in flight make at about the same time into one call. A batch goes as soon as it
/// holds ``limit`` requests, when no request has joined it for ``window`` (the requests stopped coming), or when
/// its first request has waited ``maxWait`` (they keep coming). Each caller waits for its own result only, so a
/// job is settled on its own record's outcome.
///
/// In a burst the jobs of one org reach the same step one after the other and share each call (one query for 200
/// emails, one sObject Collections upsert for 200 Tasks); a lone request waits one ``window``. A ``window`` of zero
/// sends every request on its own.
final class Gatherer<Request: Sendable, Response: Sendable>: Sendable {
    /// Makes the call for a batch: one result per request, in order.
    typealias Call = @Sendable ([Request]) async -> [Result<Response, any Error>]

    private struct Waiting {
        var request: Request
        var continuation: CheckedContinuation<Response, any Error>
    }

    private struct Pending {
        var waiting: [Waiting] = []
        /// Counts the batches taken, so that a batch's timer only sends the batch it was started for.
        var generation = 0
        var opened = ContinuousClock.now
        var lastJoined = ContinuousClock.now

        mutating func take() -> [Waiting] {
            defer {
                waiting = []
                generation += 1
            }
            return waiting
        }
    }

    private enum Next {
        case send([Waiting])
        case openWindow(generation: Int)
        case wait
    }

    let window: Duration
    let maxWait: Duration
    let limit: Int
    private let call: Call
    private let pending = Mutex(Pending())

    /// A gatherer sending batches of at most `limit` requests through `call`, each gathered while requests keep
    /// joining within `window` of each other, for `maxWait` at most.
    init(window: Duration, maxWait: Duration, limit: Int, call: @escaping Call) {
        precondition(limit > 0, "a batch holds at least one request")
        self.window = window
        self.maxWait = maxWait
        self.limit = limit
        self.call = call
    }

    /// Sends `request` with the others gathered with it and returns its own result.
    func submit(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            let next = pending.withLock { pending -> Next in
                pending.waiting.append(Waiting(request: request, continuation: continuation))
                if pending.waiting.count >= limit || window <= .zero { return .send(pending.take()) }
                pending.lastJoined = .now
                guard pending.waiting.count == 1 else { return .wait }
                pending.opened = pending.lastJoined
                return .openWindow(generation: pending.generation)
            }
            switch next {
            case .send(let batch):
                Task { await send(batch) }
            case .openWindow(let generation):
                Task { await sendWhenGathered(generation: generation) }
            case .wait:
                break
            }
        }
    }

    /// Waits until the batch `generation` is gathered (quiet for ``window``, or open for ``maxWait``), then sends
    /// it, unless it was sent full meanwhile.
    private func sendWhenGathered(generation: Int) async {
        while true {
            let due = pending.withLock { pending -> ContinuousClock.Instant? in
                guard pending.generation == generation else { return nil }
                return min(pending.lastJoined + window, pending.opened + maxWait)
            }
            guard let due else { return }
            if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
            let batch = pending.withLock { pending -> [Waiting]? in
                guard pending.generation == generation else { return [] }
                let now = ContinuousClock.now
                return now >= pending.lastJoined + window || now >= pending.opened + maxWait ? pending.take() : nil
            }
            if let batch {
                if !batch.isEmpty { await send(batch) }
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
    }
}

/// A batch call that broke its promise of one result per request.
struct GathererError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
