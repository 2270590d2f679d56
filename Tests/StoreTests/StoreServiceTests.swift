import Foundation
import Logging
import ServiceLifecycle
import Testing

@testable import Store

/// The store as a `Service`: run in a `ServiceGroup`, it serves until graceful shutdown and is closed after it.
@Suite("SyncStore as a Service", .timeLimit(.minutes(2)))
struct StoreServiceTests {
    /// Runs `store` in a service group around `body`, then triggers graceful shutdown and waits for the group.
    private func runInGroup(_ store: any SyncStore, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: [store], logger: TestDatabase.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body()
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    private func expectClosed(_ store: any SyncStore) async {
        let error = await #expect(throws: StoreError.self) { _ = try await store.teamSettings(teamID: "team_1") }
        #expect(error?.code == .closed)
        #expect(error?.message.contains("closed") == true)
    }

    @Test(arguments: Backend.available)
    func servesInAGroupAndIsClosedAfterGracefulShutdown(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        // As openStore returns it: the time limit forwards run() to the backend.
        let base = try await database.open()
        let store = TimeLimitedStore(base, timeout: .seconds(30))
        try await runInGroup(store) { () async throws in
            if let postgres = base as? PostgresStore {
                // The pool runs inside run(), not in a task of the store's own.
                try await postgres.runningAsService.wait()
            }
            try await store.saveTeamSettings(teamID: "team_1", json: json(#"{"a":1}"#))
            let saved = try #require(try await store.teamSettings(teamID: "team_1"))
            #expect(try canonical(saved.json) == canonical(#"{"a":1}"#))
        }
        await expectClosed(store)
        // Closing again (a caller that also closes) is harmless.
        try await store.close()
        // The data outlived the store.
        let reopened = try await database.open()
        #expect(try await reopened.teamSettings(teamID: "team_1") != nil)
        try await reopened.close()
    }

    @Test(arguments: Backend.available)
    func aStoreUsedBeforeItRunsIsClosedByGracefulShutdown(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        let store = try await database.open()
        // A call before the group runs (PostgreSQL: starts the pool in the store's own task)...
        try await store.saveAccountLink(teamID: "team_1", docSendAccountID: "acc_1", salesforceAccountID: "001A")
        try await runInGroup(store) { () async throws in
            #expect(try await store.accountLink(teamID: "team_1", docSendAccountID: "acc_1") == "001A")
        }
        // ...and graceful shutdown still closes it.
        await expectClosed(store)
        if let postgres = store as? PostgresStore {
            #expect(!postgres.runningAsService.isFired)
        }
    }

    @Test(arguments: Backend.available)
    func closeEndsRun(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        let store = try await database.open()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await store.run() }
            if let postgres = store as? PostgresStore {
                try await postgres.runningAsService.wait()
            }
            #expect(try await store.claim(key: "lead:team_1:ada@example.com", owner: "w1", ttl: .seconds(30)))
            // A caller without the group closes the store: run() returns.
            try await store.close()
            try await tasks.waitForAll()
        }
        await expectClosed(store)
    }

    @Test(arguments: Backend.available)
    func cancellingRunClosesTheStore(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        let store = try await database.open()
        let running = Task { try await store.run() }
        if let postgres = store as? PostgresStore {
            try await postgres.runningAsService.wait()
        }
        try await store.saveTeamSettings(teamID: "team_1", json: json("{}"))
        running.cancel()
        try await running.value
        await expectClosed(store)
    }

    @Test(arguments: Backend.available)
    func aStoreClosedBeforeItRunsDoesNotRun(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        defer { database.remove() }
        let store = try await database.open()
        try await store.close()
        // run() returns at once instead of serving a closed store.
        try await store.run()
        await expectClosed(store)
    }
}
