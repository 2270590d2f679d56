import Foundation
import Logging
import Store
import Synchronization

extension TeamOrgs {
    /// Loads an object's state (or starts from `initial`), lets `body` change it, writing to Salesforce and the
    /// broker on the way, and saves it only if no other worker saved it meanwhile; otherwise starts over on the
    /// newer state. Every write `body` makes is idempotent (upserts on external ids, ticks numbered), so doing
    /// it again after a lost race or a crash is harmless.
    ///
    /// Within a process, updates of one object take turns (a burst of events for one link does not race
    /// itself); across processes, the store's version decides, and the loser waits a random moment before
    /// starting over. A Salesforce failure on the way is noted for the team's connection
    /// (``noteFailure(_:teamID:)``).
    func updateState<State: Codable & Equatable & Sendable>(
        teamID: String, kind: SyncObjectKind, objectID: String, initial: State, logger: Logger,
        _ body: (inout State, Logger) async throws -> Void
    ) async throws {
        try await objectTurns.withTurn("\(teamID)\n\(kind)\n\(objectID)") {
            try await updateStateOnce(
                teamID: teamID, kind: kind, objectID: objectID, initial: initial, logger: logger, body)
        }
    }

    private func updateStateOnce<State: Codable & Equatable & Sendable>(
        teamID: String, kind: SyncObjectKind, objectID: String, initial: State, logger: Logger,
        _ body: (inout State, Logger) async throws -> Void
    ) async throws {
        do {
            for attempt in 1...Self.stateAttempts {
                let record = try await store.loadState(teamID: teamID, kind: kind, objectID: objectID)
                var state = try record.map { try StateCoding.decode(State.self, from: $0.state) } ?? initial
                let before = state
                try await body(&state, logger)
                guard state != before else { return }
                do {
                    _ = try await store.saveState(
                        teamID: teamID, kind: kind, objectID: objectID, state: try StateCoding.encode(state),
                        expectedVersion: record?.version)
                    return
                } catch let error as StoreError where error.code == .versionConflict {
                    logger.debug("state changed meanwhile; applying again", metadata: ["attempt": "\(attempt)"])
                    try await Task.sleep(for: .milliseconds(Int.random(in: 2...(10 * attempt))))
                }
            }
        } catch {
            await noteFailure(error, teamID: teamID)
            throw WorkFailure.classify(error, teamID: teamID)
        }
        throw WorkFailure.retryable(
            code: "state_contention", "the \(kind)'s state kept changing under other workers", teamID: teamID)
    }

    /// Throws ``WorkFailure/Disposition/skip`` when the team has no Salesforce connection: on DocSend's bus most
    /// teams never connect, and their events are acknowledged (and counted) before anything is stored for them.
    func requireConnection(teamID: String) async throws {
        guard try await store.connection(teamID: teamID) == nil else { return }
        throw WorkFailure.teamNotConnected(teamID)
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
