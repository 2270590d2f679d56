import Synchronization

/// Values loaded once per key and kept for a lifetime, single-flight: while one caller loads a key, the others
/// asking for it wait for that load instead of starting their own (a cold process with many jobs in flight makes
/// one request, not one per job). A value is kept with the `version` it was loaded for (say, the field mapping it
/// was checked against); asking with another version loads again. A failed load is not kept. Expired values are
/// swept out every ``sweepEvery`` new keys, so a cache of many keys (people by email) does not grow for ever.
final class SingleFlightCache<Key: Hashable & Sendable, Version: Equatable & Sendable, Value: Sendable>: Sendable {
    private struct Loaded {
        var value: Value
        var version: Version
        var at: ContinuousClock.Instant
    }

    private struct Loading {
        var version: Version
        var task: Task<Value, any Error>
    }

    private struct Entry {
        var loaded: Loaded?
        var loading: Loading?
    }

    private enum Lookup {
        case kept(Value)
        case wait(Task<Value, any Error>)
    }

    let lifetime: Duration
    /// New keys between two sweeps of expired values.
    static var sweepEvery: Int { 1024 }
    private let entries = Mutex<(entries: [Key: Entry], newKeys: Int)>(([:], 0))

    /// How many keys are held, loaded or loading.
    var count: Int { entries.withLock { $0.entries.count } }

    init(lifetime: Duration) { self.lifetime = lifetime }

    /// The value of `key` for `version`: kept, being loaded by another caller, or loaded now with `load`.
    func value(
        _ key: Key, version: Version, load: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let lookup = entries.withLock { state -> Lookup in
            if state.entries[key] == nil {
                state.newKeys += 1
                if state.newKeys >= Self.sweepEvery {
                    state.newKeys = 0
                    let now = ContinuousClock.now
                    state.entries = state.entries.filter { _, entry in
                        entry.loading != nil || entry.loaded.map { now - $0.at < lifetime } == true
                    }
                }
            }
            var entry = state.entries[key] ?? Entry()
            if let loaded = entry.loaded, loaded.version == version, ContinuousClock.now - loaded.at < lifetime {
                return .kept(loaded.value)
            }
            if let loading = entry.loading, loading.version == version { return .wait(loading.task) }
            let task = Task { try await load() }
            entry.loading = Loading(version: version, task: task)
            state.entries[key] = entry
            return .wait(task)
        }
        switch lookup {
        case .kept(let value):
            return value
        case .wait(let task):
            let result = await task.result
            entries.withLock { state in
                guard state.entries[key]?.loading?.task == task else { return }  // forgotten, or another version since
                state.entries[key]?.loading = nil
                if case .success(let value) = result {
                    state.entries[key]?.loaded = Loaded(value: value, version: version, at: .now)
                } else if state.entries[key]?.loaded == nil {
                    state.entries[key] = nil
                }
            }
            return try result.get()
        }
    }

    /// Forgets the keys `matching` holds for, loaded or loading (a load under way still answers its waiters).
    func forget(where matching: (Key) -> Bool) {
        entries.withLock { state in
            for key in state.entries.keys where matching(key) { state.entries[key] = nil }
        }
    }
}
