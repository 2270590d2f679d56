import Foundation
import HTTP
import Logging
import SalesforceSandbox
import Synchronization
import Testing

@testable import Salesforce

/// Keeps every log entry, for assertions (instead of bootstrapping the global logging system).
struct CapturingLogHandler: LogHandler {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    final class Store: Sendable {
        private let entries = Mutex<[Entry]>([])
        func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }
        var all: [Entry] { entries.withLock { $0 } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        store.append(
            Entry(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
}

@Suite("Logging contract", .timeLimit(.minutes(1)))
struct LoggingTests {
    static let knownMessages: Set<String> = [
        "sending Salesforce request", "received Salesforce response", "Salesforce request failed in transport",
        "Salesforce session expired", "Salesforce session unusable for REST", "Salesforce refused a refreshed session",
        "requesting Salesforce token", "received Salesforce token", "Salesforce token request refused",
        "Salesforce token request failed", "Salesforce refresh token rotated",
    ]

    @Test func debugOnlyConstantMessagesAndNoSecrets() async throws {
        try await withSandbox { sandbox, http in
            await sandbox.org.addOAuthClient(
                OAuthClientSeed(clientId: "rotating", clientSecret: "rotating-secret", rotateRefreshTokens: true))
            let refresh = try await sandbox.org.issueRefreshToken(clientId: "rotating")
            let store = CapturingLogHandler.Store()
            let logger = Logger(label: "test", factory: { _ in CapturingLogHandler(store: store) })
            let client = makeClient(
                sandbox, http, credentials: .refreshToken(refresh), clientID: "rotating", clientSecret: "rotating-secret")
            let email = "secret.visitor@example.com"
            let query = SOQL.select(["Id"], from: "Lead").where(.equals("Email", .string(email)))
            _ = try await client.query(query, logger: logger)
            await sandbox.org.expireAllAccessTokens()
            _ = try await client.query(query, logger: logger)
            _ = try? await client.get("Lead", id: "00Q5g00000Nobdy", logger: logger)

            let entries = store.all
            #expect(entries.count >= 10)
            #expect(entries.allSatisfy { $0.level <= .debug })
            #expect(Set(entries.map(\.message)).isSubset(of: Self.knownMessages))
            #expect(entries.contains { $0.message == "Salesforce refresh token rotated" })
            #expect(entries.contains { $0.message == "Salesforce session expired" && $0.metadata["sf-error-code"] == "INVALID_SESSION_ID" })
            #expect(entries.allSatisfy { $0.metadata["sf-request-id"] != nil && $0.metadata["sf-operation"] != nil })
            #expect(entries.contains { $0.metadata["sf-api-usage"]?.hasSuffix("/15000") == true })

            // Every secret the run handled, as sent on the wire.
            let requests = await sandbox.org.requests()
            var secrets = ["rotating-secret", refresh, "secret.visitor", "00Q5g00000Nobdy"]
            secrets += requests.compactMap { $0.headers["authorization"]?.replacingOccurrences(of: "Bearer ", with: "") }
            secrets += requests.compactMap { SandboxHTTPRequest.parseForm($0.body)["refresh_token"] }
            #expect(secrets.count > 6)
            for entry in entries {
                let text = ([entry.message] + entry.metadata.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
                for secret in secrets where text.contains(secret) {
                    Issue.record("a log entry contains a secret: \(entry.message)")
                }
            }
        }
    }
}
