import Foundation
import Jobs
import Logging
import Store
import Synchronization
import Timing

/// The workers' per-object sync state in the store (a visit, a link, a space link), updated with optimistic
/// versions.
///
/// An update loads the object's state (or starts from `initial`), lets its body change it, and saves it only if no
/// other worker saved it meanwhile; otherwise it starts over on the newer state. The body therefore may run more
/// than once, and after a crash between its writes and the save, again on the next delivery: what it does besides
/// changing the state goes through ``RepeatableWrites``, whose operations are all repeatable.
///
/// Within a process, updates of one object take turns (a burst of events for one link does not race itself);
/// across processes, the store's version decides, and the loser waits a random moment (``backoff``) before
/// starting over, at most ``attempts`` times.
struct SyncStateRepository: Sendable {
    let store: any SyncStore
    /// Updates of one object take turns within the process.
    let turns = KeyedTurns()
    /// How many times an update starts over after losing a race with another process.
    static let attempts = 12
    /// Between attempts: full jitter, so that the workers that lost together do not collide again.
    static let backoff = Backoff(initial: .milliseconds(10), maximum: .milliseconds(200), jitter: .full)

    func update<State: Codable & Equatable & Sendable>(
        teamID: String, kind: SyncObjectKind, objectID: String, initial: State, writes: RepeatableWrites,
        _ body: (inout State, RepeatableWrites) async throws -> Void
    ) async throws {
        let logger = writes.logger
        try await turns.withTurn("\(teamID)\n\(kind)\n\(objectID)") {
            for attempt in 1...Self.attempts {
                let record = try await store.loadState(teamID: teamID, kind: kind, objectID: objectID)
                var state = try record.map { try StateCoding.decode(State.self, from: $0.state) } ?? initial
                let before = state
                try await body(&state, writes)
                guard state != before else { return }
                do {
                    _ = try await store.saveState(
                        teamID: teamID, kind: kind, objectID: objectID, state: try StateCoding.encode(state),
                        expectedVersion: record?.version)
                    return
                } catch let error as StoreError where error.code == .versionConflict {
                    logger.debug("state changed meanwhile; applying again", metadata: ["docsend-attempt": "\(attempt)"])
                    try await Task.sleep(for: Self.backoff.delay(attempt: attempt))
                }
            }
            throw WorkFailure.retryable(
                code: "state_contention", "the \(kind)'s state kept changing under other workers", teamID: teamID)
        }
    }
}

/// Turns per key: `withTurn` runs its body once no earlier body for the same key is running, in arrival
/// order.
final class KeyedTurns: Sendable {
    private let waiting = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    init() {}

    func withTurn<Result: Sendable>(_ key: String, _ body: () async throws -> Result) async throws -> Result {
        await acquire(key)
        do {
            let result = try await body()
            release(key)
            return result
        } catch {
            release(key)
            throw error
        }
    }

    private func acquire(_ key: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = waiting.withLock { waiting in
                guard waiting[key] != nil else {
                    waiting[key] = []
                    return true
                }
                waiting[key]?.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    private func release(_ key: String) {
        let next = waiting.withLock { waiting -> CheckedContinuation<Void, Never>? in
            guard let queue = waiting[key], let first = queue.first else {
                waiting[key] = nil
                return nil
            }
            waiting[key] = Array(queue.dropFirst())
            return first
        }
        next?.resume()
    }
}

/// The JSON form of the workers' per-object state in the store.
enum StateCoding {
    static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(value)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw WorkFailure.permanent(code: "state_unreadable", "the stored state does not decode: \(error)")
        }
    }
}
