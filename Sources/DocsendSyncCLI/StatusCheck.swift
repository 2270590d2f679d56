import AMQP
import Configuration
import Fleet
import Foundation
import HTTP
import Logging
import Store
import Workers

/// Gathers what `docsend-sync status` reports: each part (broker, management API, parking lot, store) on its own,
/// so that one failing is reported as an error of the check (exit 2) and the others still run.
struct StatusCheck {
    let topology: SyncTopology
    /// A parked message that failed within this window makes the parking lot "growing".
    let parkingWindow: Duration
    let logger: Logger

    /// The most parked messages read to count them by code (they are held unacknowledged while read, then requeued
    /// in order): beyond it the counts are partial.
    static let parkingReadLimit = 1000

    /// The kind of each queue of the topology.
    var kinds: [String: StatusReport.Queue.Kind] {
        var kinds: [String: StatusReport.Queue.Kind] = [topology.parkingQueue: .parking]
        for role in SyncTopology.Role.allCases {
            kinds[topology.queue(role)] = .work
            // Consumed by the same processors as the work queue: its `no_consumers` finding speaks for both.
            kinds[topology.overflowQueue(role)] = .overflow
            for tier in topology.retryTiers(role) { kinds[tier.queue] = .retry }
        }
        kinds[topology.resyncTier.queue] = .resync
        kinds[topology.visitorRefreshTier.queue] = .refresh
        return kinds
    }

    // MARK: The broker

    /// Reads every queue of the topology (ready and consumers by AMQP, the rest from `management` when given) and the
    /// parking lot into `report`.
    func inspectBroker(_ connection: AMQPConnection, management: ManagementAPI?, into report: inout StatusReport) async {
        let kinds = self.kinds
        for queue in topology.topology.queues {
            var entry = StatusReport.Queue(name: queue.name, kind: kinds[queue.name] ?? .work, exists: false)
            do {
                let status = try await connection.queueStatus(queue.name)
                entry.exists = true
                entry.ready = status.messages
                entry.consumers = status.consumers
            } catch let error as AMQPError where error.replyCode == 404 {
                // NOT_FOUND: the queue is missing (an attention finding, not a failure of the check).
            } catch {
                entry.exists = true  // unknown: not reported missing, the error says why
                report.errors.append(.init(code: "broker_failed", message: "could not inspect \(queue.name): \(error)"))
            }
            report.queues.append(entry)
        }
        if let management { await addManagementNumbers(management, to: &report) }

        let ready = Dictionary(report.queues.map { ($0.name, $0.ready) }, uniquingKeysWith: { first, _ in first })
        let tiers =
            SyncTopology.Role.allCases.flatMap(topology.retryTiers).map { ($0, StatusReport.Queue.Kind.retry, "retry") }
            + [(topology.resyncTier, .resync, "re-sync delay"), (topology.visitorRefreshTier, .refresh, "visitor refresh delay")]
        report.retryTiers = tiers.map { tier, kind, label in
            StatusReport.Tier(
                queue: tier.queue, kind: kind, label: label, interval: IntervalFormat.format(tier.interval),
                target: tier.target, ready: ready[tier.queue] ?? nil)
        }

        if report.queues.contains(where: { $0.name == topology.parkingQueue && $0.exists }) {
            await readParkingLot(connection, into: &report)
        }
    }

    /// Adds unacknowledged messages and rates; a failure of the API drops them all (unknown) and is an error of the
    /// check, since a check asked to use the API did not.
    private func addManagementNumbers(_ management: ManagementAPI, to report: inout StatusReport) async {
        var numbers: [String: ManagementAPI.QueueNumbers] = [:]
        do {
            for queue in report.queues where queue.exists {
                numbers[queue.name] = try await management.queue(queue.name)
            }
        } catch {
            report.errors.append(.init(code: "management_api_failed", message: "\(error)"))
            return
        }
        report.managementAPI = true
        for index in report.queues.indices {
            guard let found = numbers[report.queues[index].name] else { continue }
            report.queues[index].unacknowledged = found.unacknowledged
            report.queues[index].publishRate = found.publishRate
            report.queues[index].deliverRate = found.deliverRate
            report.queues[index].ackRate = found.ackRate
        }
    }

    private func readParkingLot(_ connection: AMQPConnection, into report: inout StatusReport) async {
        do {
            let total = try await connection.queueStatus(topology.parkingQueue).messages
            let parked = try await ParkingLot(connection: connection, topology: topology).list(limit: Self.parkingReadLimit)
            report.parking = .counting(
                parked.map { (Self.failureCode($0.properties.headers), Self.failedAt($0.properties.headers)) },
                queue: topology.parkingQueue, total: max(total, parked.count), window: parkingWindow, now: Date())
        } catch {
            report.errors.append(
                .init(code: "parking_unreadable", message: "could not read \(topology.parkingQueue): \(error)"))
        }
    }

    /// The failure code a parked message's headers give, bounded; ``StatusReport/Parking/noCode`` when there is none
    /// (the broker parked it: delivery limit).
    static func failureCode(_ headers: [String: AMQPValue]) -> String {
        guard let value = headers[WorkHeaders.failureCode] else { return StatusReport.Parking.noCode }
        guard let code = value.stringValue else { return StatusReport.Parking.unreadableCode }
        return StatusReport.Parking.boundedCode(code)
    }

    /// When a parked message failed: its `docsend-failed-at` header (RFC 3339), else the time of the broker's
    /// first `x-death` entry (a message the broker parked itself); `nil` when neither says.
    static func failedAt(_ headers: [String: AMQPValue]) -> Date? {
        if let text = headers[WorkHeaders.failedAt]?.stringValue, text.utf8.count <= 64, let date = parseRFC3339(text) {
            return date
        }
        if case .array(let deaths)? = headers["x-death"], case .table(let first)? = deaths.first,
            case .timestamp(let time)? = first["time"]
        {
            return time
        }
        return nil
    }

    static func parseRFC3339(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    // MARK: The store

    /// Lists the teams needing a new login when a store is configured: `store.url`, or a SQLite store that exists in
    /// the data directory (status never creates one). Listing decrypts nothing, so no encryption key is needed.
    func inspectStore(config: ConfigReader, into report: inout StatusReport) async {
        let explicit = config.string(forKey: "store.url", isSecret: true).map { !$0.isEmpty } ?? false
        let url: String
        let location: StoreLocation
        do {
            url = try WorkerConfiguration.storeURL(config: config)
            location = try StoreLocation(url: url)
        } catch {
            report.store = .init(state: "unavailable", detail: "\(error)")
            report.errors.append(.init(code: "store_unavailable", message: "\(error)"))
            return
        }
        let described: String
        switch location {
        case .sqlite(let path):
            described = "sqlite://" + path
            guard FileManager.default.fileExists(atPath: path) else {
                if explicit {
                    report.store = .init(state: "unavailable", detail: "no SQLite store at \(path)")
                    report.errors.append(.init(code: "store_unavailable", message: "no SQLite store at \(path)"))
                } else {
                    report.store = .init(
                        state: "not_configured",
                        detail: "no store: DOCSEND_SYNC_STORE_URL (--store-url) is not set and there is no SQLite store at \(path)")
                }
                return
            }
        case .postgres(let postgres):
            described = postgres.description
        }
        let key = (try? WorkerConfiguration.encryptionKey(config: config)) ?? .random()
        let timeout = (try? WorkerConfiguration.storeTimeout(config: config)) ?? defaultStoreTimeout
        do {
            let (teams, pauses) = try await FleetProcess.withResources(.init(store: (url, key, timeout)), logger: logger) {
                (try await $0.requiredStore.teamsNeedingLogin(), try await $0.requiredStore.orgPauses())
            }
            report.store = .init(state: "checked", detail: described)
            report.teamsNeedingLogin = teams.map {
                .init(teamID: $0.teamID, reason: $0.reason, since: $0.since.formatted(.iso8601))
            }
            report.orgPauses = pauses.map {
                .init(teamID: $0.teamID, process: $0.process, reason: $0.reason, until: $0.until.formatted(.iso8601))
            }
        } catch {
            report.store = .init(state: "unavailable", detail: "\(described): \(error)")
            report.errors.append(.init(code: "store_unavailable", message: "\(described): \(error)"))
        }
    }
}
