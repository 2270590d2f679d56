import Foundation
import Hummingbird

// The pages that say what happened: the OAuth callback, the org-change confirmation and its outcome, the disconnect
// confirmation and its outcome, and every refusal (as a browser sees it, with the same status the API answers).
extension AdminPages {
    /// The callback's outcome: connected, or a confirmation to give before the team's data of another org is cleared.
    static func callbackResponse(_ outcome: ConnectOutcome, call: AdminCall) -> Response {
        switch outcome {
        case .connected(let result):
            return message(.ok, connected(result, team: call.team))
        case .needsConfirmation(let change):
            var view = MessageView(title: "Connect to another Salesforce org?", outcome: "needs_confirmation", team: call.team)
            view.csrf = csrf(call)
            view.say(
                "You logged into a different Salesforce org than the one this team's data belongs to. Nothing is connected yet.")
            view.fact("Current org", [change.previousOrganizationID, change.previousInstanceURL].compactMap { $0 }.joined(separator: " · "))
            view.fact("New org", [change.organizationID, change.instanceURL].joined(separator: " · "))
            view.fact("New org's user", change.username)
            view.say(
                "Connecting to the new org clears what DocSend keeps about the old one: the list of Tasks it wrote, the "
                    + "account links and the sync state. The Tasks already in the old org stay there.")
            let hidden = [HiddenView(name: "confirmation", value: change.confirmation)]
            let action = teamPath(call.team) + "/connect/confirm"
            view.forms = [
                FormView(
                    action: action, id: "confirm-button", help: "Clears the old org's state, then connects the new org.",
                    label: "Connect the new org and clear the old org's state", actionValue: "confirm", style: "danger",
                    hidden: hidden),
                FormView(
                    action: action, id: "cancel-button", help: "Keeps everything as it is; the new login is revoked.",
                    label: "Cancel", actionValue: "cancel", style: "secondary", hidden: hidden),
            ]
            view.back = nil
            return message(.ok, view)
        }
    }

    /// After the org-change confirmation: connected (state cleared) or cancelled.
    static func confirmedResponse(_ result: ConnectResult?, call: AdminCall) -> Response {
        guard let result else {
            var view = MessageView(title: "Nothing changed", outcome: "cancelled", team: call.team)
            view.say("You cancelled: the team stays as it was, and the new Salesforce login was revoked.")
            return message(.ok, view)
        }
        return message(.ok, connected(result, team: call.team))
    }

    static func connected(_ result: ConnectResult, team: String) -> MessageView {
        var view = MessageView(title: "Connected to Salesforce", outcome: "connected", team: team)
        view.say("Your DocSend team is now connected to your Salesforce account: DocSend syncs from now on.")
        if result.orgChanged {
            view.say("The previous org's state (written-Tasks list, account links, sync state) was cleared.")
        }
        view.fact("Salesforce user", result.username)
        view.fact("Org id", result.organizationID)
        view.fact("Instance", result.instanceURL)
        if !result.problems.isEmpty {
            view.say(
                "The org is not fully set up for this team's settings (see docs/salesforce-setup.md; "
                    + "docsend-sync team check lists every piece):", alert: true)
            view.list(result.problems)
        }
        return view
    }

    /// The disconnect confirmation (`GET /teams/{team}/disconnect`).
    static func disconnectConfirmation(call: AdminCall, connection: TeamStatus.Connection?) -> Response {
        guard let connection else {
            var view = MessageView(title: "Not connected", outcome: "not_connected", team: call.team)
            view.say("This team has no Salesforce connection: there is nothing to disconnect.")
            return message(.conflict, view)
        }
        var view = MessageView(title: "Disconnect Salesforce?", outcome: "confirm_disconnect", team: call.team)
        view.csrf = csrf(call)
        view.say(
            "DocSend revokes its access at Salesforce and stops syncing this team. The settings, the account links and the "
                + "list of written Tasks stay, for when you connect again.")
        view.fact("Salesforce user", connection.username)
        view.fact("Instance", connection.instanceURL)
        view.forms = [
            FormView(
                action: teamPath(call.team) + "/disconnect", id: "confirm-disconnect", help: "This cannot be undone; connect again to resume.",
                label: "Disconnect", actionValue: "disconnect", style: "danger", hidden: [])
        ]
        view.backLabel = "Cancel and go back to the settings"
        return message(.ok, view)
    }

    /// After a disconnect: whether Salesforce revoked the token.
    static func disconnectedResponse(_ result: DisconnectResult, call: AdminCall) -> Response {
        var view = MessageView(title: "Disconnected from Salesforce", outcome: "disconnected", team: call.team)
        view.say("DocSend no longer syncs this team to Salesforce.")
        if result.revoked {
            view.say("Salesforce revoked DocSend's access.")
        } else {
            view.say(
                "Salesforce did not revoke DocSend's access: \(result.revokeError ?? "no reason given"). Revoke it by hand in "
                    + "Salesforce (Setup → Connected Apps OAuth Usage).", alert: true)
        }
        return message(.ok, view)
    }

    /// A refusal as a page: a headline per error code, the service's message (which says what happened and what to
    /// do), and the way back when the caller's team is known.
    static func errorResponse(_ error: AdminError, team: String?) -> Response {
        var view = MessageView(title: headline(error.code), outcome: error.code.rawValue, team: team)
        let text = error.message.prefix(1).uppercased() + error.message.dropFirst()
        view.say(text.hasSuffix(".") ? text : text + ".", alert: true)
        if !error.fields.isEmpty { view.list(error.fields.map { "\(SettingsPageText.label(ofField: $0.field)): \($0.message)" }) }
        if team == nil { view.say("Open the settings again from DocSend (Settings → Connected apps).") }
        var response = message(.init(code: error.status), view)
        if error.status == 401 { response.headers[.wwwAuthenticate] = "Bearer realm=\"docsend-sync admin\"" }
        return response
    }

    static func headline(_ code: AdminError.Code) -> String {
        switch code {
        case .unauthenticated: "Your session has ended"
        case .forbidden: "These are another team's settings"
        case .csrfFailed: "This form has expired"
        case .accessDenied: "Salesforce access was denied"
        case .authorizationFailed: "Salesforce refused the login"
        case .stateUnknown: "This login is unknown or was already used"
        case .stateMismatch: "This login was started in another session"
        case .stateExpired: "The login took too long"
        case .codeRejected: "Salesforce refused the login code"
        case .wrongOrgType: "This is not the kind of org you chose"
        case .confirmationUnknown: "This confirmation is no longer valid"
        case .salesforceFailed: "Salesforce did not answer as expected"
        case .notConnected: "Salesforce is not connected"
        case .needsLogin: "Salesforce needs a new login"
        case .notFound: "Not found"
        case .validationFailed: "The change was not saved"
        case .parkingUnavailable: "Parked messages are not available"
        default: "Something went wrong"
        }
    }

    static func csrf(_ call: AdminCall) -> String {
        call.session.map { call.service.credentials.csrfToken(for: $0) } ?? ""
    }
}
