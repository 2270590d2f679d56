import AMQP
import ArgumentParser
import Fleet
import Foundation
import HTTP

extension DocsendSync {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the fleet: queues, retry tiers, parking lot, teams needing a login, paused orgs; exit 1 when something needs attention.",
            discussion: """
                Per queue: ready messages and consumers (AMQP), and with the management API (--management-url) \
                unacknowledged messages and rates in (published) and out (delivered, acknowledged); without it \
                those are unknown (-, null in JSON). The parking lot is counted by failure code from a read of at \
                most \(StatusCheck.parkingReadLimit) messages, which stay parked. With a store (--store-url, or the \
                SQLite store of --data-dir when it exists), the teams whose Salesforce connection needs a new login \
                are listed, and the orgs a worker process paused (API budget spent to its reserve, or Salesforce \
                failing) with the process and until when.

                Needs attention (exit 1), each with a stable code: queue_missing (a queue of the topology does not \
                exist), no_consumers (a work queue without consumers), parking_growing (a message parked within \
                --parking-window), team_needs_login, org_paused.

                Exit status: 0 all clear; 1 something needs attention; 2 the check could not run in full (broker \
                unreachable, management API refused or answering garbage, parking lot or configured store \
                unreadable). --json prints one JSON object (docs/operations.md, "Watching it").
                """)

        @OptionGroup var broker: BrokerOptions
        @OptionGroup var store: StoreOptions

        @Option(
            name: .customLong("management-url"),
            help: "RabbitMQ management API, http://USER:PASSWORD@HOST:15672 (DOCSEND_SYNC_RABBITMQ_MANAGEMENT_URL); without user info, the broker URL's.")
        var managementURL: String?

        @Option(
            name: .customLong("parking-window"),
            help: "A message parked within this window means the parking lot is growing (default 15m; e.g. 30s, 1h).",
            transform: { text in
                guard let duration = IntervalFormat.parse(text), duration > .zero else {
                    throw ValidationError("--parking-window expects an interval such as 15m, got \(text)")
                }
                return duration
            })
        var parkingWindow: Duration = .seconds(15 * 60)

        @Flag(help: "Print one JSON object instead of text.") var json = false

        func run() async throws {
            let (report, managementRoot) = await check()
            if json {
                say(try report.json())
            } else {
                for line in StatusText.render(report, managementURL: managementRoot) { say(line) }
            }
            if report.exitCode != 0 { throw ExitCode(report.exitCode) }
        }

        /// The report, and the management API's root when one was used. Nothing throws out of it: what cannot be
        /// read is an error of the report (exit 2), a configuration problem included, so that a check never exits 1
        /// (attention) for its own trouble.
        func check() async -> (StatusReport, managementRoot: String?) {
            var report = StatusReport()
            var overrides = store.overrides
            overrides["rabbitmq.managementURL"] = managementURL
            let config = broker.config(adding: overrides)
            let topology: SyncTopology
            let amqp: AMQPConfiguration
            do {
                topology = try SyncTopology(config: config)
                amqp = try AMQPConfiguration(config: config, connectionName: "docsend-sync status")
            } catch {
                report.errors.append(.init(code: "configuration", message: "\(error)"))
                return (report, nil)
            }
            let managementURL = config.string(forKey: "rabbitmq.managementURL", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
            let logger = CommandLogging.logger("status")
            let check = StatusCheck(topology: topology, parkingWindow: parkingWindow, logger: logger)

            var managementRoot: String?
            do {
                try await withHTTPClient(configuration: .init(maxResponseBytes: 4 << 20), logger: logger) { http in
                    var management: ManagementAPI?
                    if let managementURL {
                        do {
                            let endpoint = try ManagementAPI.Endpoint(url: managementURL, user: amqp.user, password: amqp.password)
                            management = ManagementAPI(endpoint: endpoint, vhost: amqp.vhost, http: http)
                            managementRoot = endpoint.root
                        } catch {
                            report.errors.append(.init(code: "management_api_failed", message: "\(error)"))
                        }
                    }
                    do {
                        try await broker.withConnection(as: "status") { connection in
                            await check.inspectBroker(connection, management: management, into: &report)
                        }
                    } catch {
                        report.errors.append(.init(code: "broker_unreachable", message: "\(amqp.redactedURL): \(error)"))
                    }
                }
            } catch {
                report.errors.append(.init(code: "management_api_failed", message: "no HTTP client: \(error)"))
            }
            await check.inspectStore(config: config, into: &report)
            report.attention = StatusReport.attention(
                queues: report.queues, parking: report.parking, teams: report.teamsNeedingLogin, pauses: report.orgPauses)
            return (report, report.managementAPI ? managementRoot : nil)
        }
    }
}
