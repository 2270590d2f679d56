import Synchronization

/// The deadlines of the time limits in flight (``withTimeLimit(_:timeout:_:)``), watched by one task that wakes every
/// ``tick`` while there are any, rather than a timer armed and disarmed for each: a busy worker makes several store
/// calls per message, each under a limit, and a timer each cost more in kernel time than the calls themselves.
///
/// A deadline fires (its action runs, once) at most one ``tick`` after it passes; one removed before that never
/// fires. The watcher stops when no deadline is left and starts again with the next one.
public final class DeadlineWatch: Sendable {
    /// A deadline, to remove once its limit no longer matters.
    public struct Registration: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        var due: ContinuousClock.Instant
        var action: @Sendable () -> Void
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var watching = false
    }

    /// The watch every time limit of the process uses.
    public static let shared = DeadlineWatch(tick: .milliseconds(10))

    /// How often the watcher looks while deadlines are pending: how late one may fire.
    public let tick: Duration
    private let state = Mutex(State())

    /// A watch looking every `tick`.
    public init(tick: Duration) { self.tick = tick }

    /// How many deadlines are pending.
    public var pending: Int { state.withLock { $0.entries.count } }

    /// Runs `action` once `limit` has passed, unless removed first.
    public func add(after limit: Duration, _ action: @escaping @Sendable () -> Void) -> Registration {
        let (registration, start) = state.withLock { state -> (Registration, Bool) in
            state.nextID += 1
            state.entries[state.nextID] = Entry(due: .now + limit, action: action)
            defer { state.watching = true }
            return (Registration(id: state.nextID), !state.watching)
        }
        if start { Task { await watch() } }
        return registration
    }

    /// Forgets a deadline: its action will not run (if it has not yet).
    public func remove(_ registration: Registration) {
        _ = state.withLock { $0.entries.removeValue(forKey: registration.id) }
    }

    private func watch() async {
        while true {
            try? await Task.sleep(for: tick)
            let (due, done) = state.withLock { state -> ([Entry], Bool) in
                let now = ContinuousClock.now
                let passed = state.entries.filter { $0.value.due <= now }
                for id in passed.keys { state.entries[id] = nil }
                if state.entries.isEmpty { state.watching = false }
                return (Array(passed.values), state.entries.isEmpty)
            }
            for entry in due { entry.action() }
            if done { return }
        }
    }
}
