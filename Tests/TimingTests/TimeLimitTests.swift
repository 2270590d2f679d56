import Synchronization
import Testing

@testable import Timing

/// ``withTimeLimit(_:timeout:_:)`` and the ``DeadlineWatch`` that keeps its limits.
@Suite("Time limits")
struct TimeLimitTests {
    struct TookTooLong: Error {}

    @Test("a body past its limit: the timeout's error, the body cancelled; a quick body: its value, no deadline left")
    func limits() async throws {
        let cancelled = Mutex(false)
        await #expect(throws: TookTooLong.self) {
            try await withTimeLimit(.milliseconds(50), timeout: { TookTooLong() }) {
                await withTaskCancellationHandler {
                    try? await Task.sleep(for: .seconds(60))
                } onCancel: {
                    cancelled.withLock { $0 = true }
                }
            }
        }
        #expect(cancelled.withLock { $0 })
        let value = try await withTimeLimit(.seconds(60), timeout: { TookTooLong() }) { 42 }
        #expect(value == 42)
    }

    @Test("1,000 limits at once, half of them passing: each caller gets its own outcome, and the watch empties")
    func many() async throws {
        let watch = DeadlineWatch(tick: .milliseconds(10))
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<1_000 {
                group.addTask {
                    do {
                        _ = try await withTimeLimit(
                            index.isMultiple(of: 2) ? .milliseconds(20) : .seconds(60), watch: watch, timeout: { TookTooLong() }
                        ) {
                            if index.isMultiple(of: 2) { try await Task.sleep(for: .seconds(60)) }
                            return index
                        }
                        return true
                    } catch is TookTooLong {
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 500)
        #expect(outcomes.filter { !$0 }.count == 500)
        #expect(watch.pending == 0)
    }

    @Test("the caller cancelled first: CancellationError")
    func callerCancelled() async throws {
        let task = Task {
            try await withTimeLimit(.seconds(60), timeout: { TookTooLong() }) { try await Task.sleep(for: .seconds(60)) }
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test("a watch: a deadline fires once after its limit, a removed one never; it stops when none is left")
    func watch() async throws {
        let watch = DeadlineWatch(tick: .milliseconds(5))
        let fired = Mutex(0)
        let removed = Mutex(false)
        _ = watch.add(after: .milliseconds(10)) { fired.withLock { $0 += 1 } }
        let kept = watch.add(after: .milliseconds(10)) { removed.withLock { $0 = true } }
        watch.remove(kept)
        while fired.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(fired.withLock { $0 } == 1)
        #expect(!removed.withLock { $0 })
        #expect(watch.pending == 0)
        _ = watch.add(after: .milliseconds(1)) { fired.withLock { $0 += 1 } }
        while fired.withLock({ $0 }) == 1 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(fired.withLock { $0 } == 2, "the watch started again for a new deadline")
    }
}
