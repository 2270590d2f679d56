import Foundation
import Testing

@testable import Store

@Suite("Store configuration")
struct StoreConfigurationTests {
    @Test func sqliteURL() throws {
        #expect(try StoreLocation(url: "sqlite:///var/lib/docsend-sync/sync.db") == .sqlite(path: "/var/lib/docsend-sync/sync.db"))
        #expect(StoreLocation.defaultLocation(dataDirectory: "/data") == .sqlite(path: "/data/sync.db"))
        #expect(throws: StoreError.self) { try StoreLocation(url: "sqlite://relative.db") }
        #expect(throws: StoreError.self) { try StoreLocation(url: "sqlite://") }
    }

    @Test func postgresURL() throws {
        let location = try StoreLocation(url: "postgres://sync:p%40ss@db.internal:6432/docsend?sslmode=require&schema=sync")
        guard case .postgres(let postgres) = location else {
            Issue.record("not a postgres location")
            return
        }
        #expect(postgres.host == "db.internal")
        #expect(postgres.port == 6432)
        #expect(postgres.username == "sync")
        #expect(postgres.password == "p@ss")
        #expect(postgres.database == "docsend")
        #expect(postgres.tlsMode == .require)
        #expect(postgres.schema == "sync")
        #expect(!postgres.description.contains("p@ss"))
        #expect(!postgres.description.contains("p%40ss"))

        guard case .postgres(let defaults) = try StoreLocation(url: "postgresql://localhost") else {
            Issue.record("not a postgres location")
            return
        }
        #expect(defaults.port == 5432)
        #expect(defaults.username == "postgres")
        #expect(defaults.database == nil)
        #expect(defaults.tlsMode == .prefer)
    }

    @Test(arguments: [
        "mysql://localhost/db",
        "postgres://localhost/db?sslmode=sometimes",
        "postgres://localhost/db?schema=Robert';DROP",
        "postgres://localhost/db?pool=3",
        "postgres:///db",
    ])
    func invalidURLs(_ url: String) {
        let error = #expect(throws: StoreError.self) { try StoreLocation(url: url) }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test func encryptionKey() throws {
        let key = StoreEncryptionKey.random()
        let copy = try StoreEncryptionKey(base64: key.base64 + "\n")
        #expect(copy.base64 == key.base64)
        #expect("\(key)" == "StoreEncryptionKey(redacted)")
        #expect(!String(reflecting: key).contains(key.base64))

        let short = #expect(throws: StoreError.self) { try StoreEncryptionKey(base64: Data(count: 16).base64EncodedString()) }
        #expect(short?.code == .invalidEncryptionKey)
        let garbage = #expect(throws: StoreError.self) { try StoreEncryptionKey(base64: "not base64!") }
        #expect(garbage?.code == .invalidEncryptionKey)
    }

    @Test func sealedTokensAreBoundToTheirTeam() throws {
        let cipher = TokenCipher(key: .random())
        let sealed = try cipher.seal("token", teamID: "team_1")
        #expect(try cipher.open(sealed, teamID: "team_1") == "token")
        let moved = #expect(throws: StoreError.self) { try cipher.open(sealed, teamID: "team_2") }
        #expect(moved?.code == .decryptionFailed)
        #expect(try cipher.seal("token", teamID: "team_1") != sealed, "nonces are random")
        #expect(cipher.digest("token") == cipher.digest("token"))
        #expect(cipher.digest("token") != TokenCipher(key: .random()).digest("token"))
    }
}

@Suite("Store opening")
struct StoreOpeningTests {
    @Test(.timeLimit(.minutes(1)))
    func anUnreachablePostgresFailsWithABackendError() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: StoreError.self) {
            guard case .postgres(let location) = try StoreLocation(url: "postgres://postgres@127.0.0.1:9/none?sslmode=disable")
            else { return }
            let store = try await PostgresStore.open(
                configuration: location.clientConfiguration, encryptionKey: .random(), openTimeout: .seconds(2),
                logger: TestDatabase.logger
            )
            try await store.close()
        }
        #expect(error?.code == .backend)
        #expect(error?.message.contains("127.0.0.1:9") == true)
        #expect(clock.now - started < .seconds(20))
    }
}
