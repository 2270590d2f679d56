import Foundation
import Hummingbird
import SyncCore

// The settings page (`GET /teams/{team}`), and the same page again with per-field errors when a form is refused.
extension AdminPages {
    /// What the page shows besides the team's state: a refused form (its values and problems), a notice.
    struct SettingsPageState {
        var status: HTTPResponse.Status = .ok
        /// The refusal whose problems the page lists (at the top, and under each field).
        var error: AdminError?
        var errorTitle = "There is a problem"
        /// The settings form as submitted (shown instead of the stored settings).
        var settingsForm: [String: String]?
        /// The account-link form as submitted.
        var linkForm: [String: String]?
        /// The connect form as submitted.
        var connectQuery: [String: String]?
        var notice: String?
    }

    /// Notices after a successful POST (`?done=`): fixed texts, so a crafted link cannot put words on the page.
    static func notice(_ query: [String: String]) -> String? {
        switch query["done"] {
        case "settings": return "Settings saved."
        case "link_added": return "Account linked."
        case "link_removed": return "Account link removed."
        case "replayed":
            let count = query["count"].flatMap(Int.init) ?? 0
            return "\(count) parked message(s) sent back to work."
        default: return nil
        }
    }

    /// What a section says when its part cannot be read: the service's message, never an internal error's text.
    static func reason(_ error: any Error) -> String {
        (error as? AdminError)?.message ?? "Salesforce or the broker did not answer; reload the page in a moment"
    }

    /// The settings page of the call's team, from the service; a part that cannot be read (Salesforce down, no
    /// broker) says so in its section instead of failing the page.
    static func settingsPage(_ call: AdminCall, _ state: SettingsPageState = .init()) async throws -> Response {
        let service = call.service
        let principal = try call.requiredPrincipal()
        let session = try call.requiredSession()
        let team = call.team
        let status = try await service.status(teamID: team, by: principal)
        let settings = status.settings
        let problems = Dictionary(
            (state.error?.fields ?? []).map { ($0.field, $0.message) }, uniquingKeysWith: { first, _ in first })
        let submitted = state.settingsForm

        // Connection and the connect form.
        let connection = status.connection.map { connection in
            ConnectionView(
                username: connection.username ?? "(unknown)", organizationID: connection.organizationID ?? "(unknown)",
                instanceURL: connection.instanceURL, instanceHref: href(connection.instanceURL),
                loginURL: connection.loginURL, since: shown(connection.updatedAt), needsLogin: connection.needsLogin,
                needsLoginReason: connection.needsLoginReason)
        }
        let production = service.app.loginURL
        let sandbox = service.configuration.sandboxLoginURL
        var chosenHost = state.connectQuery?["host"] ?? "production"
        var myDomain = state.connectQuery?["my_domain"] ?? ""
        if state.connectQuery == nil, let login = status.connection?.loginURL, login != production {
            if login == sandbox { chosenHost = "sandbox" } else { (chosenHost, myDomain) = ("my_domain", login) }
        }
        let hosts = [
            HostView(
                id: "host-production", value: "production", label: "Production",
                help: "Production orgs, Developer Edition and trials (\(production)).", checked: chosenHost == "production"),
            HostView(
                id: "host-sandbox", value: "sandbox", label: "Sandbox",
                help: "A sandbox or scratch org (\(sandbox)).", checked: chosenHost == "sandbox"),
            HostView(
                id: "host-my_domain", value: "my_domain", label: "My Domain",
                help: "Your org's own login URL, given below.", checked: chosenHost == "my_domain"),
        ]

        // Syncs and options: the stored values, or the refused form's.
        func toggle(_ item: SettingsPageText.Toggle) -> ControlView {
            ControlView(
                name: item.name, id: controlID(item.name), label: item.label, help: item.help,
                checked: submitted.map { $0[item.name] == "on" } ?? item.value(settings), error: problems[item.name])
        }

        // The mapping: the org's custom Task fields as choices.
        var fields: [TaskFieldDescription] = []
        var mappingUnavailable = ""
        if status.connection == nil {
            mappingUnavailable = "Connect Salesforce to choose the custom Task fields the synced properties go to."
        } else {
            do {
                fields = try await service.taskFields(teamID: team, by: principal)
            } catch {
                mappingUnavailable = "The org's Task fields cannot be read now (\(reason(error))); the mapping is shown as it is."
            }
        }
        let custom = fields.filter(\.custom).sorted { $0.name < $1.name }
        if status.connection != nil, mappingUnavailable.isEmpty, custom.isEmpty {
            mappingUnavailable = "The org's Task object has no custom fields to map to: add them in Salesforce (Setup → Object Manager → Task)."
        }
        func options(current: String?, unmapped: Bool) -> [OptionView] {
            var list: [OptionView] = []
            if unmapped { list.append(.init(value: "", label: "Not mapped (Comments only)", selected: current == nil)) }
            for field in custom {
                let size = field.length > 0 ? "(\(field.length))" : ""
                list.append(.init(value: field.name, label: "\(field.name) — \(field.type)\(size)", selected: field.name == current))
            }
            if let current, !custom.contains(where: { $0.name == current }) {
                list.append(.init(value: current, label: "\(current) (not in the org)", selected: true))
            }
            return list
        }
        let mapping = SyncedProperty.allCases.map { property in
            let name = "field_mapping.\(property.rawValue)"
            let current = submitted.map { ($0[name] ?? "").isEmpty ? nil : $0[name] } ?? settings.fieldMapping[property]
            return ControlView(
                name: name, id: controlID(name), label: property.label, help: SettingsPageText.help(property),
                options: options(current: current, unmapped: true), error: problems[name])
        }
        let externalIDs = ActivityKind.allCases.map { kind in
            let name = "external_id_fields.\(kind.rawValue)"
            let current = submitted?[name].flatMap { $0.isEmpty ? nil : $0 } ?? settings.externalIDFields.field(for: kind)
            return ControlView(
                name: name, id: controlID(name), label: SettingsPageText.keyLabel(kind),
                help: "A Text field marked External ID and Unique.", options: options(current: current, unmapped: false),
                error: problems[name])
        }
        let currentMapping = SyncedProperty.allCases.compactMap { property in
            settings.fieldMapping[property].map { MappedView(label: property.label, field: $0) }
        }

        // Account links, the search, the link form.
        let instance = status.connection?.instanceURL
        let links = try await service.accountLinks(teamID: team, by: principal).map { link in
            LinkView(
                docSendAccountID: link.docSendAccountID, salesforceAccountID: link.salesforceAccountID,
                href: instance.flatMap { href(AdminService.recordURL($0, link.salesforceAccountID)) },
                updatedAt: shown(link.updatedAt),
                deleteAction: teamPath(team) + "/account-links/" + AdminCredentials.percentEncode(link.docSendAccountID)
                    + "/delete")
        }
        let query = (call.query["account_search"] ?? state.linkForm?["account_search"] ?? "")
        var results: [AccountMatch] = []
        var searchError: String?
        let searched = !query.trimmingCharacters(in: .whitespaces).isEmpty
        if searched {
            do {
                results = try await service.searchAccounts(teamID: team, name: query, by: principal)
            } catch {
                searchError = reason(error)
            }
        }
        let chosenAccount = state.linkForm?["salesforce_account_id"] ?? ""
        let linkForm = LinkFormView(
            docSendAccountID: state.linkForm?["docsend_account_id"] ?? "", salesforceAccountID: chosenAccount,
            hasChoices: !results.isEmpty,
            choices: results.map { .init(value: $0.id, label: "\($0.name) (\($0.id))", selected: $0.id == chosenAccount) },
            docSendError: problems["docsend_account_id"], salesforceError: problems["salesforce_account_id"])

        // What was written lately, and what is parked.
        let activity = try await service.activity(teamID: team, limit: 10, by: principal).map { item in
            ActivityView(
                at: shown(item.at), kind: SettingsPageText.activityLabel(item.kind), objectID: item.objectID,
                salesforceType: item.salesforceType, salesforceID: item.salesforceID, href: href(item.recordURL))
        }
        var parked: [ParkedView] = []
        var parkedUnavailable: String?
        do {
            parked = try await service.parked(teamID: team, limit: 50, by: principal).map { item in
                ParkedView(
                    messageID: item.messageID ?? "—", type: item.type ?? "—", failureCode: item.failureCode ?? "—",
                    failureReason: item.failureReason ?? "", failedAt: item.failedAt ?? "", attempts: item.attempts)
            }
        } catch {
            parkedUnavailable = "Parked messages cannot be read now: \(reason(error))."
        }

        // Problems: at the top (linked to their fields) and under each field.
        var summary: [SummaryItem] = []
        if let error = state.error {
            if error.fields.isEmpty {
                summary.append(.init(anchor: nil, message: error.message))
            } else {
                summary = error.fields.map { problem in
                    // The mapping's problems already start with the property ("Percent viewed → …").
                    let label = SettingsPageText.label(ofField: problem.field)
                    let message = problem.message.hasPrefix(label) ? problem.message : "\(label): \(problem.message)"
                    return SummaryItem(anchor: controlID(problem.field), message: message)
                }
            }
        }

        let view = SettingsView(
            team: team, teamPath: teamPath(team), csrf: service.credentials.csrfToken(for: session),
            notice: state.notice ?? notice(call.query), hasErrors: !summary.isEmpty, errorTitle: state.errorTitle,
            errorSummary: summary, connection: connection,
            connectLegend: connection == nil ? "Connect Salesforce" : "Log in to Salesforce again (or to another org)",
            connectButton: connection == nil ? "Connect Salesforce" : "Reconnect Salesforce", hosts: hosts,
            myDomain: InputView(id: controlID("my_domain"), value: myDomain, error: problems["my_domain"]),
            timeZone: InputView(
                id: controlID("time_zone"), value: submitted?["time_zone"] ?? settings.timeZone, error: problems["time_zone"]),
            deletedTasks: SettingsPageText.deletedTasks(
                id: controlID("deleted_tasks"),
                selected: submitted?["deleted_tasks"].flatMap(DeletedTaskPolicy.init(rawValue:)) ?? settings.deletedTasks,
                error: problems["deleted_tasks"]),
            syncs: SettingsPageText.syncs.map(toggle), options: SettingsPageText.options.map(toggle),
            mappingReady: !custom.isEmpty, mappingUnavailable: mappingUnavailable, mapping: mapping,
            externalIDs: externalIDs, hasCurrentMapping: !currentMapping.isEmpty, currentMapping: currentMapping,
            hasLinks: !links.isEmpty, links: links, searchQuery: query, searchError: searchError, searched: searched && searchError == nil,
            hasResults: !results.isEmpty, results: results.map { ResultView(id: $0.id, name: $0.name, href: href($0.url)) },
            linkForm: linkForm, hasActivity: !activity.isEmpty, activityCount: activity.count, activity: activity,
            parkedUnavailable: parkedUnavailable, hasParked: !parked.isEmpty,
            parkedEmpty: parked.isEmpty && parkedUnavailable == nil, parkedCount: parked.count, parkedItems: parked,
            sessionExpires: shown(session.expiresAt))
        return page(state.status, template: "settings", view)
    }
}
