import ServiceLifecycle
import Synchronization

/// A one-shot signal: once ``fire()`` is called, every wait, earlier or later, returns. The stores use it to end
/// ``SyncStore``'s `run()` when ``SyncStore/close()`` is called, and to let `close()` wait until the PostgreSQL
/// client has stopped.
final class Latch: Sendable {
    private struct State {
        var fired = false
        var nextWaiter = 0
        /// Resumes a waiter: `nil` when the signal fired, `CancellationError` when the wait was cancelled.
        var waiters: [Int: @Sendable ((any Error)?) -> Void] = [:]
    }

    private let state = Mutex(State())

    /// Whether ``fire()`` was called.
    var isFired: Bool { self.state.withLock { $0.fired } }

    /// Fires the signal (once; later calls do nothing) and resumes every waiter.
    func fire() {
        let waiters = self.state.withLock { state -> [@Sendable ((any Error)?) -> Void] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for resume in waiters { resume(nil) }
    }

    /// Registers `resume` unless the signal has fired already; returns its id, or `nil` when it has fired.
    private func register(_ resume: @escaping @Sendable ((any Error)?) -> Void) -> Int? {
        self.state.withLock { state in
            guard !state.fired else { return nil }
            state.nextWaiter += 1
            state.waiters[state.nextWaiter] = resume
            return state.nextWaiter
        }
    }

    /// Returns once the signal has fired; throws `CancellationError` when the task is cancelled first.
    func wait() async throws {
        let id = Mutex<Int?>(nil)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let registered = self.register { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                }
                guard let registered else { return continuation.resume() }
                id.withLock { $0 = registered }
                // The cancellation handler may have run before the waiter was registered.
                if Task.isCancelled { self.cancel(registered) }
            }
        } onCancel: {
            if let registered = id.withLock({ $0 }) { self.cancel(registered) }
        }
    }

    private func cancel(_ id: Int) {
        let resume = self.state.withLock { $0.waiters.removeValue(forKey: id) }
        resume?(CancellationError())
    }

    /// Returns once the signal has fired, whether or not the task is cancelled meanwhile (`close()` waits for the
    /// client to stop even when its caller is being cancelled).
    func waitIgnoringCancellation() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if self.register({ _ in continuation.resume() }) == nil { continuation.resume() }
        }
    }

    /// Returns when the signal fires, graceful shutdown is triggered, or the task is cancelled, whichever comes
    /// first: the wait of a store's `run()`.
    func waitForGracefulShutdown() async {
        try? await cancelWhenGracefulShutdown { try await self.wait() }
    }
}
