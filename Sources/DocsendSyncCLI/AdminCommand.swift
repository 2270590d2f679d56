import AMQP
import Admin
import ArgumentParser
import Fleet
import Foundation
import Workers

extension DocsendSync {
    struct Admin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the admin service (DocSend's API and the Salesforce connect flow), or mint its credentials.",
            subcommands: [Serve.self, Token.self, Link.self], defaultSubcommand: Serve.self)
    }
}

extension DocsendSync.Admin {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve the admin API until SIGTERM or SIGINT (the default of `docsend-sync admin`).",
            discussion: """
                Needs DOCSEND_SYNC_ADMIN_SIGNING_KEY (openssl rand -base64 32), the store's encryption key and the \
                connected app (DOCSEND_SYNC_SALESFORCE_CLIENT_ID, …_CLIENT_SECRET). Register \
                <admin.publicURL>/oauth/callback as the app's callback URL.
                """)

        @OptionGroup var broker: BrokerOptions
        @OptionGroup var store: StoreOptions

        @Option(help: "Port, default 9410; 0 picks a free one (DOCSEND_SYNC_ADMIN_PORT).")
        var port: Int?

        @Option(name: .customLong("public-url"), help: "Browser-facing base URL (DOCSEND_SYNC_ADMIN_PUBLIC_URL).")
        var publicURL: String?

        func run() async throws {
            var overrides = store.overrides
            overrides["admin.port"] = port.map(String.init)
            overrides["admin.publicURL"] = publicURL
            let config = broker.config(adding: overrides)
            try await AdminProcess.run(
                configuration: try AdminConfiguration(config: config), worker: try WorkerConfiguration(config: config),
                amqp: try AMQPConfiguration(
                    config: config, connectionName: "docsend-sync admin (pid \(ProcessInfo.processInfo.processIdentifier))"),
                topology: try SyncTopology(config: config), logger: CommandLogging.logger("admin"))
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the API token of a team (for DocSend's application), signed with the admin signing key.")

        @Option(help: "The DocSend team id.") var team: String

        func validate() throws {
            guard TeamID.isValid(team) else { throw ValidationError("a team id is 1 to 128 of A-Z a-z 0-9 _ - . :") }
        }

        func run() async throws {
            let key = try AdminConfiguration.signingKey(config: FleetConfiguration.reader())
            say(AdminCredentials(key: key).apiToken(team: team))
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a signed session link that opens the team's admin page in a browser.")

        @Option(help: "The DocSend team id.") var team: String

        @Option(help: "How long the link stays valid, e.g. 5m (at most 1h).") var expires: String = "5m"

        @Option(name: .customLong("public-url"), help: "The base URL (DOCSEND_SYNC_ADMIN_PUBLIC_URL).")
        var publicURL: String?

        func validate() throws {
            guard TeamID.isValid(team) else { throw ValidationError("a team id is 1 to 128 of A-Z a-z 0-9 _ - . :") }
            guard let interval = IntervalFormat.parse(expires), interval > .zero, interval <= .seconds(3600) else {
                throw ValidationError("--expires must be an interval from 1s to 1h, e.g. 5m")
            }
        }

        func run() async throws {
            var overrides: [String: String] = [:]
            overrides["admin.publicURL"] = publicURL
            let config = FleetConfiguration.reader(overrides: overrides)
            let key = try AdminConfiguration.signingKey(config: config)
            let base = config.string(forKey: "admin.publicURL") ?? "http://127.0.0.1:\(config.string(forKey: "admin.port") ?? "9410")"
            let seconds = TimeInterval(IntervalFormat.parse(expires)?.components.seconds ?? 300)
            let path = AdminCredentials(key: key).sessionLink(team: team, expires: Date().addingTimeInterval(seconds))
            say((base.hasSuffix("/") ? String(base.dropLast()) : base) + path)
        }
    }
}
