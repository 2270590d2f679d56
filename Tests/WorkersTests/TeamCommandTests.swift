import Foundation
import Logging
import SalesforceSandbox
import Store
import SyncCore
import Testing

/// `docsend-sync team connect | set | show`, run as a user would, against the sandbox over HTTP and a SQLite
/// store.
@Suite(
    "docsend-sync team", .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)),
    .timeLimit(.minutes(5)))
struct TeamCommandTests {
    /// A sandbox, an empty store, and a way to run the CLI against both.
    final class World: Sendable {
        let sandbox: SalesforceSandbox
        let directory: URL
        let key = StoreEncryptionKey.random()

        init() async throws {
            sandbox = try await SalesforceSandbox.start(configuration: .init(port: 0, seed: .workerTests))
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("team-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        var storeURL: String { "sqlite://" + directory.appendingPathComponent("sync.db").path }

        /// Runs `docsend-sync ARGS`; returns the exit status and what it printed (both streams).
        /// (Waits without blocking a thread: the sandbox answering the CLI runs in this process.)
        func run(_ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, output: String) {
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DOCSEND_SYNC_") }
            environment["DOCSEND_SYNC_STORE_URL"] = storeURL
            environment["DOCSEND_SYNC_STORE_ENCRYPTION_KEY"] = key.base64
            environment["DOCSEND_SYNC_SALESFORCE_LOGIN_URL"] = sandbox.baseURL
            environment["DOCSEND_SYNC_SALESFORCE_CLIENT_ID"] = SandboxSeed.Demo.clientId
            environment["DOCSEND_SYNC_SALESFORCE_CLIENT_SECRET"] = SandboxSeed.Demo.clientSecret
            let input = Pipe()
            let launched = try FleetHarness.launch(arguments, environment: environment, in: directory, stdin: input)
            if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
            try input.fileHandleForWriting.close()
            while launched.process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            launched.process.waitUntilExit()
            return (launched.process.terminationStatus, launched.output)
        }

        func store() async throws -> any SyncStore {
            try await openStore(url: storeURL, encryptionKey: key, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        }

        func close() async {
            await sandbox.shutdown()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test("connect checks the token with Salesforce, stores it encrypted, and show never prints it")
    func connectAndShow() async throws {
        let world = try await World()
        let bad = try await world.run(["team", "connect", "--team", "team_x", "--refresh-token-file", "-"], stdin: "not-a-token\n")
        #expect(bad.status != 0)
        #expect(bad.output.contains("invalid_grant"), "\(bad.output)")
        let empty = try await world.store()
        #expect(try await empty.connection(teamID: "team_x") == nil, "nothing stored after a refused sign-in")
        try await empty.close()

        let good = try await world.run(
            ["team", "connect", "--team", "team_x", "--refresh-token-file", "-"], stdin: SandboxSeed.Demo.refreshToken + "\n")
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("connected team_x to \(world.sandbox.baseURL)"))
        let store = try await world.store()
        let connection = try #require(try await store.connection(teamID: "team_x"))
        #expect(connection.refreshToken == SandboxSeed.Demo.refreshToken)
        #expect(connection.loginURL == world.sandbox.baseURL)
        try await store.close()

        let shown = try await world.run(["team", "show", "--team", "team_x"])
        #expect(shown.status == 0)
        #expect(shown.output.contains("refresh token (stored encrypted)"))
        #expect(!shown.output.contains(SandboxSeed.Demo.refreshToken))
        #expect(shown.output.contains("sync visits:                             on"))
        await world.close()
    }

    @Test("connect --client-credentials stores a connection without a refresh token")
    func clientCredentials() async throws {
        let world = try await World()
        let result = try await world.run(["team", "connect", "--team", "team_cc", "--client-credentials"])
        #expect(result.status == 0, "\(result.output)")
        let store = try await world.store()
        let connection = try #require(try await store.connection(teamID: "team_cc"))
        #expect(connection.refreshToken == nil)
        try await store.close()
        #expect(try await world.run(["team", "show", "--team", "team_cc"]).output.contains("client credentials"))
        await world.close()
    }

    @Test("set: toggles, a mapping checked against describe (refused with every problem), account links")
    func set() async throws {
        let world = try await World()
        _ = try await world.run(["team", "connect", "--team", "team_x", "--refresh-token-file", "-"], stdin: SandboxSeed.Demo.refreshToken)
        let toggles = try await world.run(["team", "set", "--team", "team_x", "--create-leads", "on", "--sync-space-links", "off"])
        #expect(toggles.status == 0, "\(toggles.output)")
        let mapped = try await world.run(["team", "set", "--team", "team_x", "--map", "visit_duration=DocSend_Duration__c"])
        #expect(mapped.status == 0, "\(mapped.output)")
        #expect(mapped.output.contains("visit_duration -> DocSend_Duration__c"))

        let refused = try await world.run([
            "team", "set", "--team", "team_x", "--map", "percent_viewed=No_Such_Field__c", "--map", "analytics_link=Subject",
        ])
        #expect(refused.status == 1)
        #expect(refused.output.contains("No_Such_Field__c"), "\(refused.output)")
        #expect(refused.output.contains("Subject"), "\(refused.output)")
        #expect(try await world.run(["team", "set", "--team", "team_x", "--map", "nonsense=X__c"]).status != 0)

        let linked = try await world.run(["team", "set", "--team", "team_x", "--link-account", "acct_9=\(SandboxSeed.Ids.globex)"])
        #expect(linked.status == 0, "\(linked.output)")
        #expect(try await world.run(["team", "set", "--team", "team_x", "--link-account", "acct_8=001000000000000AAA"]).status != 0)

        let store = try await world.store()
        let settings = try JSONDecoder().decode(
            TeamSettings.self, from: try #require(try await store.teamSettings(teamID: "team_x")).json)
        #expect(settings.createLeadsForUnmatchedEmails && !settings.syncSpaceLinks && settings.syncVisits)
        #expect(settings.fieldMapping.fields == [.visitDuration: "DocSend_Duration__c"], "the refused change left the mapping as it was")
        #expect(try await store.accountLink(teamID: "team_x", docSendAccountID: "acct_9") == SandboxSeed.Ids.globex)
        #expect(try await store.accountLink(teamID: "team_x", docSendAccountID: "acct_8") == nil)
        try await store.close()
        await world.close()
    }

    @Test("set --time-zone: an IANA name is saved and shown; anything else is refused and changes nothing")
    func timeZone() async throws {
        let world = try await World()
        _ = try await world.run(["team", "connect", "--team", "team_x", "--refresh-token-file", "-"], stdin: SandboxSeed.Demo.refreshToken)
        let shownBefore = try await world.run(["team", "show", "--team", "team_x"])
        #expect(shownBefore.output.contains("time zone (task dates):                  UTC"), "\(shownBefore.output)")
        let set = try await world.run(["team", "set", "--team", "team_x", "--time-zone", "America/Los_Angeles"])
        #expect(set.status == 0, "\(set.output)")
        #expect(set.output.contains("time zone (task dates):                  America/Los_Angeles"), "\(set.output)")
        for invalid in ["PST", "Mars/Olympus", "GMT+2"] {
            let refused = try await world.run(["team", "set", "--team", "team_x", "--time-zone", invalid])
            #expect(refused.status != 0)
            #expect(refused.output.contains("IANA"), "\(refused.output)")
        }
        let store = try await world.store()
        let settings = try JSONDecoder().decode(
            TeamSettings.self, from: try #require(try await store.teamSettings(teamID: "team_x")).json)
        #expect(settings.timeZone == "America/Los_Angeles")
        try await store.close()
        await world.close()
    }

    @Test("set --deleted-tasks: recreate by default, leave when set, anything else refused")
    func deletedTasks() async throws {
        let world = try await World()
        _ = try await world.run(["team", "connect", "--team", "team_x", "--refresh-token-file", "-"], stdin: SandboxSeed.Demo.refreshToken)
        let shownBefore = try await world.run(["team", "show", "--team", "team_x"])
        #expect(shownBefore.output.contains("tasks deleted in salesforce:             recreate"), "\(shownBefore.output)")
        let set = try await world.run(["team", "set", "--team", "team_x", "--deleted-tasks", "leave"])
        #expect(set.status == 0, "\(set.output)")
        #expect(set.output.contains("tasks deleted in salesforce:             leave"), "\(set.output)")
        let refused = try await world.run(["team", "set", "--team", "team_x", "--deleted-tasks", "half"])
        #expect(refused.status != 0)
        let store = try await world.store()
        let settings = try JSONDecoder().decode(
            TeamSettings.self, from: try #require(try await store.teamSettings(teamID: "team_x")).json)
        #expect(settings.deletedTasks == .leave)
        try await store.close()
        await world.close()
    }
}
