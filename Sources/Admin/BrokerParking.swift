import AMQP
import Fleet
import Workers

/// ``AdminParking`` over the broker's parking queue (``ParkingLot``), filtered by the `team_id` of each body.
///
/// Listing peeks at up to ``ParkingLot/listLimit`` parked messages of every team and keeps the team's; a team
/// whose messages sit behind more than that many of other teams sees only those within the window.
public struct BrokerParking: AdminParking {
    let lot: ParkingLot

    /// The parking queue of `topology`, through `connection`.
    public init(connection: AMQPConnection, topology: SyncTopology) {
        self.lot = ParkingLot(connection: connection, topology: topology)
    }

    public func parked(teamID: String, limit: Int) async throws -> [ParkedItem] {
        try await lot.list(limit: ParkingLot.listLimit).filter { $0.teamID == teamID }.prefix(limit).map { message in
            ParkedItem(
                messageID: message.properties.messageID, type: message.properties.type, failureCode: message.failureCode,
                failureReason: message.failureReason, failedAt: message.failedAt, attempts: message.attempts)
        }
    }

    public func replay(teamID: String) async throws -> ReplayResult {
        ReplayResult(replayed: try await lot.replay { $0.teamID == teamID }.replayed)
    }
}
