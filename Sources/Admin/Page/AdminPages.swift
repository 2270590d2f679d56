import Foundation
import Hummingbird
import Mustache
import SyncCore

/// The settings page and the result pages (connect, confirmation, disconnect, errors), rendered from
/// ``AdminPageTemplates`` with what ``AdminService`` answers: the page calls the same operations as the API.
///
/// Views are plain structs read by Mustache through reflection; their property names are the templates' keys. A
/// missing (`nil`) key is looked up in the enclosing views, so nested views avoid the names of their parents'.
enum AdminPages {
    // MARK: Views

    struct OptionView {
        var value: String
        var label: String
        var selected: Bool
    }

    /// A control: checkbox (`toggle`) or select (`choice`), with its help and its error.
    struct ControlView {
        var name: String
        var id: String
        var label: String
        var help: String
        var checked: Bool = false
        var options: [OptionView] = []
        var error: String?
    }

    struct HostView {
        var id: String
        var value: String
        var label: String
        var help: String
        var checked: Bool
    }

    struct InputView {
        var id: String
        var value: String
        var error: String?
    }

    struct ConnectionView {
        var username: String
        var organizationID: String
        var instanceURL: String
        var instanceHref: String?
        var loginURL: String
        var since: String
        var needsLogin: Bool
        var needsLoginReason: String?
    }

    struct SummaryItem {
        var anchor: String?
        var message: String
    }

    struct MappedView {
        var label: String
        var field: String
    }

    struct LinkView {
        var docSendAccountID: String
        var salesforceAccountID: String
        var href: String?
        var updatedAt: String
        var deleteAction: String
    }

    struct ResultView {
        var id: String
        var name: String
        var href: String?
    }

    struct LinkFormView {
        var docSendAccountID: String
        var salesforceAccountID: String
        var hasChoices: Bool
        var choices: [OptionView]
        var docSendError: String?
        var salesforceError: String?
    }

    struct ActivityView {
        var at: String
        var kind: String
        var objectID: String
        var salesforceType: String
        var salesforceID: String
        var href: String?
    }

    struct ParkedView {
        var messageID: String
        var type: String
        var failureCode: String
        var failureReason: String
        var failedAt: String
        var attempts: Int
    }

    struct SettingsView {
        var title = "Salesforce settings"
        var outcome = "settings"
        var team: String
        var teamPath: String
        var csrf: String
        var notice: String?
        var hasErrors: Bool
        var errorTitle: String
        var errorSummary: [SummaryItem]
        var connection: ConnectionView?
        var connectLegend: String
        var connectButton: String
        var hosts: [HostView]
        var myDomain: InputView
        /// The team's time zone (Task dates).
        var timeZone: InputView
        /// What a later write does with a Task a rep deleted (a select).
        var deletedTasks: ControlView
        var syncs: [ControlView]
        var options: [ControlView]
        var mappingReady: Bool
        var mappingUnavailable: String
        var mapping: [ControlView]
        var externalIDs: [ControlView]
        var hasCurrentMapping: Bool
        var currentMapping: [MappedView]
        var hasLinks: Bool
        var links: [LinkView]
        var searchQuery: String
        var searchError: String?
        var searched: Bool
        var hasResults: Bool
        var results: [ResultView]
        var linkForm: LinkFormView
        var hasActivity: Bool
        var activityCount: Int
        var activity: [ActivityView]
        var parkedUnavailable: String?
        var hasParked: Bool
        var parkedEmpty: Bool
        var parkedCount: Int
        var parkedItems: [ParkedView]
        var sessionExpires: String
    }

    struct ParagraphView {
        var text: String
        var alert: Bool
    }

    struct FactView {
        var name: String
        var value: String
    }

    struct HiddenView {
        var name: String
        var value: String
    }

    struct FormView {
        var action: String
        var id: String
        var help: String
        var label: String
        var actionValue: String
        var style: String
        var hidden: [HiddenView]
    }

    /// A result or confirmation page.
    struct MessageView {
        var title: String
        /// A stable word for programs and tests (`data-outcome`): `connected`, `needs_confirmation`, an error code…
        var outcome: String
        var team: String
        var csrf: String = ""
        var paragraphs: [ParagraphView] = []
        var hasFacts = false
        var facts: [FactView] = []
        var hasItems = false
        var items: [String] = []
        var forms: [FormView] = []
        var back: String?
        var backLabel = "Back to the settings"

        init(title: String, outcome: String, team: String?, back: Bool = true) {
            self.title = title
            self.outcome = outcome
            self.team = team ?? "—"
            if back, let team { self.back = AdminPages.teamPath(team) }
        }

        mutating func say(_ text: String, alert: Bool = false) { paragraphs.append(.init(text: text, alert: alert)) }

        mutating func fact(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            facts.append(.init(name: name, value: value))
            hasFacts = true
        }

        mutating func list(_ values: [String]) {
            items += values
            hasItems = !items.isEmpty
        }
    }

    // MARK: Rendering

    /// Renders `template` with `view` into a page response (no caching, no script, no framing).
    static func page(_ status: HTTPResponse.Status, template: String, _ view: Any) -> Response {
        let body = AdminPageTemplates.library.render(view, withTemplate: template) ?? ""
        let headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .xContentTypeOptions: "nosniff",
            // No script, no framing; forms are not restricted (form-action would also stop the connect form's
            // redirect to Salesforce).
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ]
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func message(_ status: HTTPResponse.Status, _ view: MessageView) -> Response {
        page(status, template: "message", view)
    }

    /// `/teams/<team>`, the team id percent-encoded.
    static func teamPath(_ team: String) -> String { "/teams/" + AdminCredentials.percentEncode(team) }

    /// `2026-11-30 03:14 UTC`.
    static func shown(_ date: Date?) -> String {
        guard let date else { return "" }
        let text = ISO8601DateFormatter().string(from: date)
        return String(text.prefix(16)).replacingOccurrences(of: "T", with: " ") + " UTC"
    }

    /// A link target only when it is an http(s) URL (instance URLs come from Salesforce's answers).
    static func href(_ url: String?) -> String? {
        guard let url, url.hasPrefix("https://") || url.hasPrefix("http://") else { return nil }
        return url
    }

    /// The id of the control a problem's field names: `field_mapping.visit_duration` → `f-field_mapping-visit_duration`.
    static func controlID(_ field: String) -> String { "f-" + field.replacingOccurrences(of: ".", with: "-") }
}
