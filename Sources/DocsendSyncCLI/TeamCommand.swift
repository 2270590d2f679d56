import ArgumentParser
import Configuration
import Fleet
import Foundation
import HTTP
import Logging
import Store
import SyncCore
import Workers

extension DocsendSync {
    struct Team: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect a team's Salesforce org and manage its sync settings.",
            subcommands: [Connect.self, Set.self, Show.self])
    }
}

/// The options every `team` command takes.
struct TeamOptions: ParsableArguments {
    @Option(help: "The DocSend team id, e.g. team_42.")
    var team: String

    @OptionGroup var store: StoreOptions

    var config: ConfigReader { FleetConfiguration.reader(overrides: store.overrides) }

    /// Runs `body` with the team administration over the configured store and an HTTP client for Salesforce, both
    /// shut down afterwards (``FleetProcess/withResources(_:logger:_:)``).
    func withAdministration<Result>(_ body: (TeamAdministration, ConfigReader) async throws -> Result) async throws -> Result {
        let config = self.config
        let logger = CommandLogging.logger("team")
        let app = try WorkerConfiguration.salesforce(config: config)
        let needs = FleetResources.Needs(
            store: (
                try WorkerConfiguration.storeURL(config: config), try WorkerConfiguration.encryptionKey(config: config),
                try WorkerConfiguration.storeTimeout(config: config)
            ),
            http: HTTPClient.Configuration(caFile: config.string(forKey: "salesforce.caFile")))
        return try await FleetProcess.withResources(needs, logger: logger) { resources in
            let administration = TeamAdministration(
                store: try resources.requiredStore, app: app, http: try resources.requiredHTTPClient, logger: logger)
            return try await body(administration, config)
        }
    }
}

extension DocsendSync.Team {
    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a team's Salesforce connection after checking it signs in.",
            discussion: """
                Give the refresh token the OAuth login yielded in a file (or `-` for standard input), or use \
                --client-credentials for the client-credentials flow (the login URL must be the org's My Domain). \
                The client secret comes from DOCSEND_SYNC_SALESFORCE_CLIENT_SECRET.
                """)

        @OptionGroup var options: TeamOptions

        @Option(name: .customLong("refresh-token-file"), help: "File holding the refresh token; - reads standard input.")
        var refreshTokenFile: String?

        @Flag(name: .customLong("client-credentials"), help: "Use the client-credentials flow instead of a refresh token.")
        var clientCredentials = false

        func validate() throws {
            guard (refreshTokenFile != nil) != clientCredentials else {
                throw ValidationError("give either --refresh-token-file or --client-credentials")
            }
        }

        func run() async throws {
            var refreshToken: String?
            if let file = refreshTokenFile {
                let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
                refreshToken = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard refreshToken?.isEmpty == false else { throw ValidationError("the refresh token file is empty") }
            }
            try await options.withAdministration { admin, config in
                let app = try WorkerConfiguration.salesforce(config: config)
                guard let clientID = app.clientID else {
                    throw ConfigurationError(key: "salesforce.clientID", problem: "required to connect a team")
                }
                let check = try await admin.connect(
                    teamID: options.team, loginURL: app.loginURL, clientID: clientID, refreshToken: refreshToken)
                say("connected \(options.team) to \(check.instanceURL)")
                for problem in check.problems { say("warning: \(problem)") }
                if !check.problems.isEmpty {
                    say("fix the org's Task fields or the team's settings (docsend-sync team set) before syncing")
                }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a team's sync settings.",
            discussion: """
                A mapping (--map PROPERTY=FIELD) sends a synced property to a custom Task field as well as to the \
                Comments; it is checked against the org's Task fields and refused with every problem found. \
                Properties: \(SyncedProperty.allCases.map(\.rawValue).joined(separator: ", ")).
                """)

        enum Toggle: String, ExpressibleByArgument {
            case on, off
            var isOn: Bool { self == .on }
        }

        /// ``DeletedTaskPolicy`` as an argument.
        enum DeletedTasks: String, ExpressibleByArgument, CaseIterable {
            case recreate, leave
            var policy: DeletedTaskPolicy { self == .recreate ? .recreate : .leave }
        }

        @OptionGroup var options: TeamOptions

        @Option(help: "Sync visits into Tasks.") var syncVisits: Toggle?
        @Option(help: "Sync document link creations.") var syncDocumentLinks: Toggle?
        @Option(help: "Sync space link creations.") var syncSpaceLinks: Toggle?
        @Option(help: "Create new leads for unmatched emails.") var createLeads: Toggle?
        @Option(help: "Create open tasks for unmatched records.") var createOpenTasks: Toggle?
        @Option(help: "The IANA time zone of Task dates, e.g. America/Los_Angeles (UTC by default).") var timeZone: String?
        @Option(
            help: "When a rep deleted a synced Task in Salesforce, a later write writes it again whole (recreate, the default) or writes nothing (leave)."
        ) var deletedTasks: DeletedTasks?

        @Option(help: "Map a property to a custom Task field, PROPERTY=FIELD (repeatable).")
        var map: [String] = []

        @Option(help: "Remove a property's mapping (repeatable).")
        var unmap: [String] = []

        @Option(help: "Link a DocSend account to a Salesforce Account, DOCSEND_ACCOUNT_ID=SALESFORCE_ACCOUNT_ID (repeatable).")
        var linkAccount: [String] = []

        func validate() throws {
            if let timeZone, let problem = TeamSettings.timeZoneProblem(timeZone) {
                throw ValidationError("--time-zone \(timeZone): \(problem)")
            }
        }

        func run() async throws {
            var mapped: [(SyncedProperty, String)] = []
            for entry in map {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let property = SyncedProperty(rawValue: parts[0]), !parts[1].isEmpty else {
                    throw ValidationError("--map expects PROPERTY=FIELD with a known property, got \(entry)")
                }
                mapped.append((property, parts[1]))
            }
            let unmapped = try unmap.map { name in
                guard let property = SyncedProperty(rawValue: name) else { throw ValidationError("unknown property \(name)") }
                return property
            }
            let links = try linkAccount.map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--link-account expects DOCSEND_ACCOUNT_ID=SALESFORCE_ACCOUNT_ID, got \(entry)")
                }
                return (parts[0], parts[1])
            }
            try await options.withAdministration { admin, _ in
                do {
                    let settings = try await admin.updateSettings(teamID: options.team) { settings in
                        if let syncVisits { settings.syncVisits = syncVisits.isOn }
                        if let syncDocumentLinks { settings.syncDocumentLinks = syncDocumentLinks.isOn }
                        if let syncSpaceLinks { settings.syncSpaceLinks = syncSpaceLinks.isOn }
                        if let createLeads { settings.createLeadsForUnmatchedEmails = createLeads.isOn }
                        if let createOpenTasks { settings.createOpenTasksForUnmatchedRecords = createOpenTasks.isOn }
                        if let timeZone { settings.timeZone = timeZone }
                        if let deletedTasks { settings.deletedTasks = deletedTasks.policy }
                        for property in unmapped { settings.fieldMapping.fields[property] = nil }
                        for (property, field) in mapped { settings.fieldMapping.fields[property] = field }
                    }
                    for (docSend, salesforce) in links {
                        try await admin.linkAccount(teamID: options.team, docSendAccountID: docSend, salesforceAccountID: salesforce)
                        say("linked DocSend account \(docSend) to Salesforce Account \(salesforce)")
                    }
                    say(describe(settings))
                } catch let error as FieldMappingValidationError {
                    for problem in error.problems { say("error: \(problem)") }
                    throw ExitCode(1)
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a team's connection and sync settings.")

        @OptionGroup var options: TeamOptions

        func run() async throws {
            try await options.withAdministration { admin, _ in
                if let connection = try await admin.connection(teamID: options.team) {
                    say("connection:")
                    say("  instance url: \(connection.instanceURL)")
                    say("  login url:    \(connection.loginURL)")
                    say("  client id:    \(connection.clientID)")
                    say("  flow:         \(connection.refreshToken == nil ? "client credentials" : "refresh token (stored encrypted)")")
                    if connection.needsReauthentication {
                        say("  NEEDS A NEW LOGIN: \(connection.reauthenticationReason ?? "")")
                    }
                } else {
                    say("connection: none (docsend-sync team connect)")
                }
                say(describe(try await admin.settings(teamID: options.team)))
            }
        }
    }
}

/// The settings, for people.
private func describe(_ settings: TeamSettings) -> String {
    func onOff(_ value: Bool) -> String { value ? "on" : "off" }
    var lines = [
        "settings:",
        "  sync visits:                             \(onOff(settings.syncVisits))",
        "  sync document links:                     \(onOff(settings.syncDocumentLinks))",
        "  sync space links:                        \(onOff(settings.syncSpaceLinks))",
        "  create new leads for unmatched emails:   \(onOff(settings.createLeadsForUnmatchedEmails))",
        "  create open tasks for unmatched records: \(onOff(settings.createOpenTasksForUnmatchedRecords))",
        "  time zone (task dates):                  \(settings.timeZone)",
        "  tasks deleted in salesforce:             \(settings.deletedTasks)",
        "  field mapping:\(settings.fieldMapping.fields.isEmpty ? " none" : "")",
    ]
    for property in SyncedProperty.allCases {
        if let field = settings.fieldMapping[property] { lines.append("    \(property.rawValue) -> \(field)") }
    }
    lines.append(
        "  external id fields: visit \(settings.externalIDFields.visit), document link "
            + "\(settings.externalIDFields.documentLink), space link \(settings.externalIDFields.spaceLink)")
    return lines.joined(separator: "\n")
}
