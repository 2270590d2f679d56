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
            subcommands: [Connect.self, Set.self, Show.self, Check.self, Forget.self])
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
                for finding in check.problems { say("\(finding)") }
                if !check.problems.isEmpty {
                    say("see docs/salesforce-setup.md, then run docsend-sync team check --team \(options.team)")
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

extension DocsendSync.Team {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that a team's Salesforce org is set up for its settings, and say what is missing.",
            discussion: """
                Reads the org with the team's connection, as the workers do: the custom Task fields (the external-id \
                fields must be External ID and Unique, case sensitive; mapped fields must fit their properties), \
                the integration user's access to Task, Lead, Contact, Account and User, the Task statuses, Lead \
                Source when the team creates Leads, and the follow-up owner when it creates open Tasks. Exits 1 when \
                a problem would park syncs, 0 otherwise (warnings included). See docs/salesforce-setup.md.
                """)

        @OptionGroup var options: TeamOptions

        @Flag(help: "Print one JSON object instead of text.") var json = false

        func run() async throws {
            let check = try await options.withAdministration { admin, _ in try await admin.check(teamID: options.team) }
            let worst = OrgCheck.worst(check.findings)
            if json {
                struct Report: Encodable {
                    var team: String
                    var instanceURL: String
                    var result: OrgCheck.Severity
                    var findings: [OrgCheck.Finding]
                    enum CodingKeys: String, CodingKey {
                        case team, result, findings
                        case instanceURL = "instance_url"
                    }
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let report = Report(team: options.team, instanceURL: check.instanceURL, result: worst, findings: check.findings)
                say(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                say("\(options.team) at \(check.instanceURL):")
                let width = check.findings.map(\.subject.count).max() ?? 0
                for finding in check.findings {
                    let mark = switch finding.severity {
                    case .ok: "ok     "
                    case .warning: "WARNING"
                    case .problem: "PROBLEM"
                    }
                    say("  \(mark)  \(finding.subject.padding(toLength: width, withPad: " ", startingAt: 0))  \(finding.detail)")
                }
                let problems = check.findings.filter { $0.severity == .problem }.count
                let warnings = check.findings.filter { $0.severity == .warning }.count
                say(
                    problems + warnings == 0
                        ? "the org is ready"
                        : "\(problems) problem\(problems == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s"): see docs/salesforce-setup.md")
            }
            if worst == .problem { throw ExitCode(1) }
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

extension DocsendSync.Team {
    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase what the store keeps about a person of a team (an erasure request).",
            discussion: """
                Removes the states of the visits whose visitor has this email, the person from the visitors lists \
                of the team's link states, the ledger entries of those visits and of the Lead made for the email, \
                and any lease on the email; safe while workers run. Salesforce records are the customer's and stay. \
                Running workers keep what Salesforce answered for an email in memory for a few minutes at most \
                (the output says how long): nothing of it is written anywhere. Recorded in the team's audit trail \
                (counts only, never the email). See docs/operations.md, "Erasing a person".
                """)

        @OptionGroup var options: TeamOptions

        @Option(help: "The person's email (compared ignoring case).")
        var email: String

        @Flag(help: "Print one JSON object instead of text.") var json = false

        func validate() throws {
            guard Matching.normalizedEmail(email)?.contains("@") == true else {
                throw ValidationError("--email expects an email address, got \(email)")
            }
        }

        func run() async throws {
            try await options.withStore { store, config in
                let erasure = PersonErasure(store: store, logger: CommandLogging.logger("team"))
                let outcome = try await erasure.forget(teamID: options.team, email: email)
                let lookups = try WorkerConfiguration.salesforce(config: config).lookupLifetime
                let memory = PersonErasure.inMemoryBound(lookupLifetime: lookups)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let actor = "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown")
                try await store.recordAudit(
                    AuditEntry(teamID: options.team, actor: actor, action: "person.forget", details: try encoder.encode(outcome)))
                if json {
                    var object = try JSONSerialization.jsonObject(with: try encoder.encode(outcome)) as? [String: Any] ?? [:]
                    object["team"] = options.team
                    object["in_memory_lookups_expire_within_seconds"] = Int(memory.components.seconds)
                    say(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                    return
                }
                say("forgot the person in \(options.team):")
                say("  visit states removed:              \(outcome.visitStates)")
                say("  link states rewritten without them: \(outcome.linkStates) (\(outcome.linkVisitorEntries) visitor entries)")
                say("  ledger entries removed:            \(outcome.ledgerEntries)")
                say("  leases removed:                    \(outcome.leases)")
                if outcome.unreadableStates > 0 {
                    say("  warning: \(outcome.unreadableStates) states mention the email but do not decode; left as they are")
                }
                say("running workers forget their in-memory lookups of this email within \(IntervalFormat.format(memory))")
                say("Salesforce records (Tasks, Leads, Contacts) are the customer's and were not changed")
            }
        }
    }
}

extension TeamOptions {
    /// Runs `body` with the configured store alone (no Salesforce), closed afterwards.
    func withStore<Result>(_ body: (any SyncStore, ConfigReader) async throws -> Result) async throws -> Result {
        let config = self.config
        let needs = FleetResources.Needs(
            store: (
                try WorkerConfiguration.storeURL(config: config), try WorkerConfiguration.encryptionKey(config: config),
                try WorkerConfiguration.storeTimeout(config: config)
            ))
        return try await FleetProcess.withResources(needs, logger: CommandLogging.logger("team")) { resources in
            try await body(try resources.requiredStore, config)
        }
    }
}
