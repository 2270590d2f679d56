import Synchronization

/// Runs `body` for at most `limit`; when the limit passes first, throws what `timeout` makes (the abandoned `body`
/// is cancelled and its result dropped), and when the caller is cancelled first, `CancellationError`.
///
/// `body` runs in a task of its own rather than a child task: a task group would wait for a child that ignores
/// cancellation (a blocking database call, a stuck callback), which is exactly what the limit is for.
public func withTimeLimit<T: Sendable>(
    _ limit: Duration, timeout: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try Task.checkCancellation()
    let race = Race<T>()
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
        var tasks: [Task<Void, Never>] = []
    }

    private let state = Mutex(State())

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
        let work = Task {
            do {
                self.finish(.success(try await body()))
            } catch {
                self.finish(.failure(error))
            }
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            if !Task.isCancelled {
                self.finish(.failure(timeout()))
            }
        }
        let over = state.withLock { state -> Bool in
            if state.outcome != nil { return true }
            state.tasks = [work, timer]
            return false
        }
        if over {
            work.cancel()
            timer.cancel()
        }
    }

    /// Delivers `result` unless an outcome was delivered already.
    func finish(_ result: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
            guard state.outcome == nil else { return (nil, []) }
            state.outcome = result
            defer {
                state.continuation = nil
                state.tasks = []
            }
            return (state.continuation, state.tasks)
        }
        continuation?.resume(with: result)
        for task in tasks { task.cancel() }
    }
}
