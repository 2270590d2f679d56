import Synchronization

/// Runs `body` for at most `limit`; when the limit passes first, throws what `timeout` makes (the abandoned `body`
/// is cancelled and its result dropped), and when the caller is cancelled first, `CancellationError`.
///
/// `body` runs in a task of its own rather than a child task: a task group would wait for a child that ignores
/// cancellation (a blocking database call, a stuck callback), which is exactly what the limit is for. The limit is
/// kept by `watch`, by default ``DeadlineWatch/shared`` (one watcher for every limit in flight, not a timer each), so
/// it may pass up to the watch's tick late.
public func withTimeLimit<T: Sendable>(
    _ limit: Duration, watch: DeadlineWatch = .shared, timeout: @escaping @Sendable () -> any Error,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try Task.checkCancellation()
    let race = Race<T>(watch: watch)
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation, limit: limit, timeout: timeout, body)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The work and its timer: the first to finish resumes the caller and cancels the other.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var outcome: Result<T, any Error>?
        var work: Task<Void, Never>?
        var deadline: DeadlineWatch.Registration?
    }

    private let state = Mutex(State())
    private let watch: DeadlineWatch

    init(watch: DeadlineWatch) { self.watch = watch }

    func start(
        _ continuation: CheckedContinuation<T, any Error>, limit: Duration,
        timeout: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable () async throws -> T
    ) {
        // The caller may have been cancelled between the check and here.
        let early = state.withLock { state -> Result<T, any Error>? in
            if let outcome = state.outcome { return outcome }
            state.continuation = continuation
            return nil
        }
        if let early {
            continuation.resume(with: early)
            return
        }
        let deadline = watch.add(after: limit) { self.finish(.failure(timeout())) }
        let work = Task {
            do {
                self.finish(.success(try await body()))
            } catch {
                self.finish(.failure(error))
            }
        }
        let over = state.withLock { state -> Bool in
            if state.outcome != nil { return true }
            state.work = work
            state.deadline = deadline
            return false
        }
        if over {
            work.cancel()
            watch.remove(deadline)
        }
    }

    /// Delivers `result` unless an outcome was delivered already.
    func finish(_ result: Result<T, any Error>) {
        let (continuation, work, deadline) = state.withLock { state in
            guard state.outcome == nil else { return (nil, nil, nil) as (CheckedContinuation<T, any Error>?, Task<Void, Never>?, DeadlineWatch.Registration?) }
            state.outcome = result
            defer {
                state.continuation = nil
                state.work = nil
                state.deadline = nil
            }
            return (state.continuation, state.work, state.deadline)
        }
        continuation?.resume(with: result)
        work?.cancel()
        if let deadline { watch.remove(deadline) }
    }
}
