import Synchronization

/// A counting semaphore for async code: at most `permits` holders at once, waiters resume in arrival
/// order, and a waiter whose task is cancelled leaves the queue and throws `CancellationError` without
/// consuming a permit.
final class AsyncSemaphore: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var permits: Int
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    init(permits: Int) {
        state = Mutex(State(permits: permits))
    }

    /// Takes a permit, waiting in line when none is free. Pair every successful call with ``release()``.
    func acquire() async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case acquired, cancelled, queued }
                let outcome: Outcome = state.withLock { state in
                    // Checked under the lock: a cancellation handler that ran before we queued found no
                    // waiter, so we must notice the cancellation here.
                    if Task.isCancelled { return .cancelled }
                    if state.permits > 0 && state.waiters.isEmpty {
                        state.permits -= 1
                        return .acquired
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch outcome {
                case .acquired: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .queued: break
                }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            // Not found: the waiter already holds a permit (handed over by `release`) or never queued.
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns a permit, handing it to the longest waiter if any.
    func release() {
        let next: Waiter? = state.withLock { state in
            if state.waiters.isEmpty {
                state.permits += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.continuation.resume()
    }

    /// Permits currently free (for tests and metrics).
    var availablePermits: Int { state.withLock { $0.permits } }

    /// Callers currently waiting (for tests and metrics).
    var waiterCount: Int { state.withLock { $0.waiters.count } }
}
