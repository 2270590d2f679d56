import Synchronization

/// Gathers the requests that jobs in flight make at about the same time into one call: the first request of a
/// batch opens a short window; the batch goes when the window closes or as soon as it holds ``limit`` requests.
/// Each caller waits for its own result only, so a job is settled on its own record's outcome.
///
/// In a burst the jobs of one org reach the same step together and share each call (one query for 200 emails, one
/// sObject Collections upsert for 200 Tasks); a lone request waits one ``window`` at most. A ``window`` of zero
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
        /// Counts the batches taken, so that a window's timer only sends the batch it opened.
        var generation = 0

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
    let limit: Int
    private let call: Call
    private let pending = Mutex(Pending())

    /// A gatherer sending batches of at most `limit` requests, gathered for at most `window`, through `call`.
    init(window: Duration, limit: Int, call: @escaping Call) {
        precondition(limit > 0, "a batch holds at least one request")
        self.window = window
        self.limit = limit
        self.call = call
    }

    /// Sends `request` with the others gathered with it and returns its own result.
    func submit(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            let next = pending.withLock { pending -> Next in
                pending.waiting.append(Waiting(request: request, continuation: continuation))
                if pending.waiting.count >= limit || window <= .zero { return .send(pending.take()) }
                return pending.waiting.count == 1 ? .openWindow(generation: pending.generation) : .wait
            }
            switch next {
            case .send(let batch):
                Task { await send(batch) }
            case .openWindow(let generation):
                Task {
                    try? await Task.sleep(for: window)
                    let batch = pending.withLock { $0.generation == generation ? $0.take() : [] }
                    if !batch.isEmpty { await send(batch) }
                }
            case .wait:
                break
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
