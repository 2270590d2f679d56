import Foundation
import Hummingbird

extension AdminRoutes {
    /// The settings page and its forms (browser session; every POST with the session's CSRF token). A refused form
    /// shows the page again with its problems per field (422, or 409 when Salesforce is not connected); a form that
    /// worked redirects to the page (303), which names what was done (`?done=`).
    static let page: [AdminRoute] = [
        AdminRoute(method: .get, path: "/teams/{team}", access: .session) { call in
            try await AdminPages.settingsPage(call)
        },
        AdminRoute(method: .post, path: "/teams/{team}/settings", access: .sessionWithCSRF) { call in
            let principal = try call.requiredPrincipal()
            let form = call.form
            let current = try await call.service.settings(teamID: call.team, by: principal)
            do {
                _ = try await call.service.updateSettings(
                    teamID: call.team, SettingsChange(form: form, current: current), by: principal)
            } catch let error as AdminError where call.html && [409, 422].contains(error.status) {
                return try await AdminPages.settingsPage(
                    call,
                    .init(
                        status: .init(code: error.status), error: error, errorTitle: "The settings were not saved",
                        settingsForm: form))
            }
            return AdminPages.redirect(AdminPages.teamPath(call.team) + "?done=settings#syncs")
        },
        AdminRoute(method: .post, path: "/teams/{team}/account-links", access: .sessionWithCSRF) { call in
            let form = call.form
            let account = (form["docsend_account_id"] ?? "").trimmingCharacters(in: .whitespaces)
            let salesforce = (form["salesforce_account_id"] ?? "").trimmingCharacters(in: .whitespaces)
            do {
                // Both fields checked at once, so the page shows every problem the first time.
                var problems: [AdminError.FieldProblem] = []
                if !AdminService.isDocSendID(account) {
                    problems.append(.init(field: "docsend_account_id", message: "give the account's DocSend id (1 to 255 characters)"))
                }
                if !AdminService.isSalesforceID(salesforce, prefix: "001") {
                    problems.append(
                        .init(field: "salesforce_account_id", message: "expected a 15 or 18 character Account id (001…)"))
                }
                guard problems.isEmpty else {
                    throw AdminError(.validationFailed, "the link is not valid", status: 422, fields: problems)
                }
                try await call.service.setAccountLink(
                    teamID: call.team, docSendAccountID: account, salesforceAccountID: salesforce,
                    by: try call.requiredPrincipal())
            } catch let error as AdminError where call.html && [409, 422].contains(error.status) {
                return try await AdminPages.settingsPage(
                    call,
                    .init(
                        status: .init(code: error.status), error: error, errorTitle: "The account was not linked",
                        linkForm: form))
            }
            return AdminPages.redirect(AdminPages.teamPath(call.team) + "?done=link_added#account-links")
        },
        AdminRoute(method: .post, path: "/teams/{team}/account-links/{account}/delete", access: .sessionWithCSRF) { call in
            try await call.service.deleteAccountLink(
                teamID: call.team, docSendAccountID: call.parameters["account"] ?? "", by: try call.requiredPrincipal())
            return AdminPages.redirect(AdminPages.teamPath(call.team) + "?done=link_removed#account-links")
        },
        AdminRoute(method: .post, path: "/teams/{team}/parked/replay", access: .sessionWithCSRF) { call in
            let result = try await call.service.replayParked(teamID: call.team, by: try call.requiredPrincipal())
            return AdminPages.redirect(AdminPages.teamPath(call.team) + "?done=replayed&count=\(result.replayed)#parked")
        },
        AdminRoute(method: .get, path: "/teams/{team}/disconnect", access: .session) { call in
            let status = try await call.service.status(teamID: call.team, by: try call.requiredPrincipal())
            return AdminPages.disconnectConfirmation(call: call, connection: status.connection)
        },
    ]
}

extension AdminPages {
    /// `303 See Other` to `location` (after a form that worked: reloading the page does not post it again).
    static func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther)
        response.headers[.location] = location
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
