import AMQP
import Foundation
import SalesforceSandbox
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// The parking lot for operators: list, replay once the cause is fixed, purge.
@Suite("Parking lot", .enabled(if: TestBroker.isAvailable), .timeLimit(.minutes(10)))
struct ParkingTests {
    @Test("a team whose connection needs a new login: parked; connected again, replayed, synced; a poison message stays parked")
    func replayAfterFix() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            try await harness.connectTeam("team_later", settings: TeamSettings())
            try await harness.store.markNeedsReauthentication(teamID: "team_later", reason: "refresh token revoked")
            let event = Events.started(email: "alice@acme.example", team: "team_later")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await harness.runWorkers([.visits]) {
                try await harness.publish(event)
                try await harness.broker.publish(
                    AMQPMessage(
                        exchange: harness.topology.activityExchange, routingKey: "visit.updated", body: Data("[]".utf8),
                        properties: AMQPProperties(type: "visit.updated")))
                try await eventually("both parked") {
                    try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 2
                }
                let lot = ParkingLot(connection: harness.broker, topology: harness.topology)
                let listed = try await lot.list()
                #expect(Set(listed.compactMap(\.failureCode)) == ["salesforce_reauthentication_required", "contract_violation.invalid_json"])
                #expect(listed.allSatisfy { $0.originQueue == harness.topology.queue(.visits) })
                try await eventually("listing keeps them parked") {
                    try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 2
                }

                try await harness.connectTeam("team_later", settings: TeamSettings())
                let result = try await lot.replay(codePrefix: "salesforce_reauthentication_required")
                #expect(result.replayed == 1 && result.kept == 1)
                try await eventually("the replayed visit synced") { await harness.visitWrites(visit.visitID) == 1 }
                try await eventually("one still parked") {
                    try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 1
                }
                #expect(try await lot.purge() == 1)
            }
            #expect(try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 0)
        }
    }
}
