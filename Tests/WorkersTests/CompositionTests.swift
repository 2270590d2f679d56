import AMQP
import Foundation
import HTTP
import Store
import Synchronization
import TestSupport
import Testing

@testable import Workers

/// The one composition root: what a process opens, runs in its group, and closes.
@Suite("Composition root", .enabled(if: TestBroker.isAvailable))
struct CompositionTests {
    private func needs(_ directory: URL, broker: AMQPConfiguration) -> FleetResources.Needs {
        FleetResources.Needs(
            store: ("sqlite://" + directory.appendingPathComponent("sync.db").path, StoreEncryptionKey.random(), .seconds(5)),
            http: HTTPClient.Configuration(), broker: broker, separatePublisher: true)
    }

    private func directory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("docsend-composition-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("a command's resources serve its body and are all closed after it, also when it throws")
    func withResources() async throws {
        let directory = try directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let needs = needs(directory, broker: try TestBroker.configuration())
        let queue = TestBroker.uniqueName()

        let kept = try await FleetProcess.withResources(needs, logger: TestBroker.logger) { resources in
            let store = try resources.requiredStore
            try await store.saveTeamSettings(teamID: "team_1", json: Data("{}".utf8))
            #expect(resources.consumer !== resources.publisher, "a worker's two connections")
            try await resources.requiredConnection.declare(.init(queues: [.init(name: queue)]), redeclareOnReconnect: false)
            return resources
        }
        let storeError = await #expect(throws: StoreError.self) { _ = try await kept.requiredStore.teamSettings(teamID: "team_1") }
        #expect(storeError?.code == .closed)
        let brokerError = await #expect(throws: AMQPError.self) {
            try await kept.requiredConnection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data()))
        }
        #expect(brokerError?.code == .closed)
        let httpError = await #expect(throws: HTTPClientError.self) {
            _ = try await kept.requiredHTTPClient.execute(HTTPRequest(method: .get, url: "http://127.0.0.1:9/"))
        }
        #expect(httpError?.code == .shutdown)

        struct Refused: Error {}
        let leaked = Mutex<FleetResources?>(nil)
        await #expect(throws: Refused.self) {
            try await FleetProcess.withResources(needs, logger: TestBroker.logger) { resources -> Int in
                leaked.withLock { $0 = resources }
                throw Refused()
            }
        }
        let afterThrow = try #require(leaked.withLock { $0 })
        await #expect(throws: StoreError.self) { _ = try await afterThrow.requiredStore.teamSettings(teamID: "team_1") }
        let cleanup = try await TestBroker.connect()
        try await cleanup.deleteQueue(queue)
        await cleanup.close()
    }

    @Test("a broker that cannot be reached fails the opening with the broker's error")
    func openFailure() async throws {
        let directory = try directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var broker = try TestBroker.configuration()
        broker.port = 1  // nothing listens there
        let error = await #expect(throws: AMQPError.self) {
            _ = try await FleetResources.open(needs(directory, broker: broker), logger: TestBroker.logger)
        }
        #expect(error?.code == .connectionFailed)
    }
}
