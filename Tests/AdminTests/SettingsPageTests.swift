import Admin
import Foundation
import HTTP
import SalesforceSandbox
import Store
import Testing
import Workers

/// The settings page and the flow's pages over HTTP, as a browser sends them (`Accept: text/html`, form posts): what
/// each shows, the per-field problems of a refused form, the CSRF check of every form, and the accessibility rules
/// that can be checked on the markup (every control labelled, help and errors tied to it, headings in order).
@Suite("Admin settings page")
struct SettingsPageTests {
    static let browser = [("Accept", "text/html,application/xhtml+xml")]

    static func get(_ admin: AdminHarness, _ path: String, cookie: String) async throws -> AdminHarness.Reply {
        try await admin.request(.get, path, cookie: cookie, headers: browser)
    }

    static func post(_ admin: AdminHarness, _ path: String, cookie: String, _ form: String) async throws -> AdminHarness.Reply {
        try await admin.request(
            .post, path, cookie: cookie, body: Data(form.utf8), contentType: "application/x-www-form-urlencoded",
            headers: browser)
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    @Test
    func thePageShowsEverySectionAndIsLabelled() async throws {
        try await withAdmin { admin in
            let session = try await admin.connect("team_a")
            let instance = try #require(try await admin.store.connection(teamID: "team_a")?.instanceURL)
            _ = try await admin.store.recordLedgerEntry(
                teamID: "team_a", kind: .visit, objectID: "visit_42", salesforceType: "Task", salesforceID: "00T000000000042AAA")
            admin.parking.items.withLock {
                $0["team_a"] = [ParkedItem(
                    messageID: "evt_parked", type: "visit.started", failureCode: "salesforce.INVALID_FIELD",
                    failureReason: "No such column 'Gone__c' on Task", failedAt: "2026-01-01T00:00:00Z", attempts: 1)]
            }
            let reply = try await Self.get(admin, "/teams/team_a", cookie: session.cookie)
            #expect(reply.status == 200)
            #expect(reply.headers["Content-Type"]?.hasPrefix("text/html") == true)
            let page = reply.text
            #expect(!page.contains("{{") && !page.contains("}}"), "every tag rendered")
            #expect(page.contains(#"<html lang="en">"#))
            #expect(page.contains(##"<a class="skip" href="#main">"##) && page.contains(#"<main id="main""#))
            // Connection, with Disconnect behind a confirmation.
            #expect(page.contains("Connected") && page.contains(instance))
            #expect(page.contains(#"action="/teams/team_a/disconnect""#))
            for host in ["production", "sandbox", "my_domain"] { #expect(page.contains(#"value="\#(host)""#)) }
            // Every sync and option with its help, and DocSend's advice on "Require email to view".
            for name in ["sync_visits", "sync_document_links", "sync_space_links", "create_leads_for_unmatched_emails",
                         "create_open_tasks_for_unmatched_records"] {
                #expect(page.contains(#"name="\#(name)""#) && page.contains(#"id="f-\#(name)-help""#), "\(name)")
            }
            #expect(page.contains("Require email to view"))
            // The org's custom Task fields as the mapping's choices (describe, through the service).
            let fields = try await admin.service.taskFields(teamID: "team_a", by: .api(team: "team_a")).filter(\.custom)
            #expect(!fields.isEmpty)
            for field in fields { #expect(page.contains(#"<option value="\#(field.name)""#), "\(field.name)") }
            #expect(page.contains(#"name="field_mapping.visit_duration""#))
            // The last Tasks written, linked into Salesforce; parked messages with their reasons and a replay button.
            #expect(page.contains(#"href="\#(instance)/00T000000000042AAA""#))
            #expect(page.contains("No such column &#39;Gone__c&#39; on Task"))
            #expect(page.contains(#"action="/teams/team_a/parked/replay""#))
            // Every form that posts carries the session's CSRF token.
            let posts = page.components(separatedBy: #"method="post""#).count - 1
            let tokens = page.components(separatedBy: #"name="csrf_token" value="\#(session.csrf)""#).count - 1
            #expect(posts >= 3 && tokens == posts)
            try HTMLChecks.everyControlIsLabelled(page)
            try HTMLChecks.headingsAreInOrder(page)
        }
    }

    @Test
    func theTimeZoneIsSetFromTheFormAndAnUnknownOneIsRefusedUnderItsField() async throws {
        try await withAdmin { admin in
            let session = try await admin.connect("team_a")
            let shown = try await Self.get(admin, "/teams/team_a", cookie: session.cookie).text
            #expect(shown.contains(#"<input type="text" name="time_zone" id="f-time_zone" value="UTC""#), "\(shown)")
            try HTMLChecks.everyControlIsLabelled(shown)

            let refused = try await Self.post(
                admin, "/teams/team_a/settings", cookie: session.cookie,
                "csrf_token=\(session.csrf)&settings_form=1&sync_visits=on&time_zone=Pacific+Time")
            #expect(refused.status == 422)
            #expect(refused.text.contains(##"href="#f-time_zone""##), "the summary links to the field")
            #expect(refused.text.contains(#"<p class="error" id="f-time_zone-error">"#))
            #expect(refused.text.contains(#"value="Pacific Time" aria-describedby="f-time_zone-help f-time_zone-error" aria-invalid="true""#))
            #expect(try await admin.store.teamSettings(teamID: "team_a") == nil, "nothing saved")

            let saved = try await Self.post(
                admin, "/teams/team_a/settings", cookie: session.cookie,
                "csrf_token=\(session.csrf)&settings_form=1&sync_visits=on&time_zone=America%2FLos_Angeles")
            #expect(saved.status == 303)
            let settings = try await admin.service.settings(teamID: "team_a", by: .api(team: "team_a"))
            #expect(settings.timeZone == "America/Los_Angeles")
            let audit = try #require(try await admin.store.auditEntries(teamID: "team_a", limit: 1).first)
            #expect(audit.action == "settings.update")
            let after = try await Self.get(admin, "/teams/team_a", cookie: session.cookie).text
            #expect(after.contains(#"name="time_zone" id="f-time_zone" value="America/Los_Angeles""#))
        }
    }

    @Test
    func aRefusedSettingsFormShowsItsProblemsPerFieldAndAValidOneIsSaved() async throws {
        try await withAdmin { admin in
            let session = try await admin.connect("team_a")
            // percent_viewed is a number: a Text field is the wrong type.
            let refused = try await Self.post(
                admin, "/teams/team_a/settings", cookie: session.cookie,
                "csrf_token=\(session.csrf)&settings_form=1&sync_visits=on&field_mapping.percent_viewed=DocSend_Visit_Id__c")
            #expect(refused.status == 422)
            let page = refused.text
            #expect(page.contains("The settings were not saved"))
            #expect(page.contains(##"href="#f-field_mapping-percent_viewed""##), "the summary links to the field")
            #expect(page.contains(#"aria-describedby="f-field_mapping-percent_viewed-help f-field_mapping-percent_viewed-error" aria-invalid="true""#))
            #expect(page.contains(#"<p class="error" id="f-field_mapping-percent_viewed-error">"#))
            // The refused choice stays selected, and the unchecked boxes stay unchecked.
            #expect(page.contains(#"<option value="DocSend_Visit_Id__c" selected>"#))
            #expect(page.contains(#"id="f-sync_visits" value="on" aria-describedby="f-sync_visits-help" checked>"#))
            #expect(page.contains(#"id="f-sync_document_links" value="on" aria-describedby="f-sync_document_links-help">"#))
            try HTMLChecks.everyControlIsLabelled(page)
            #expect(try await admin.store.teamSettings(teamID: "team_a") == nil, "nothing saved")

            // A valid form: visits off, visit duration mapped.
            let saved = try await Self.post(
                admin, "/teams/team_a/settings", cookie: session.cookie,
                "csrf_token=\(session.csrf)&settings_form=1&sync_document_links=on&sync_space_links=on"
                    + "&field_mapping.visit_duration=DocSend_Duration__c&field_mapping.percent_viewed=")
            #expect(saved.status == 303)
            #expect(saved.headers["Location"] == "/teams/team_a?done=settings#syncs")
            let settings = try await admin.service.settings(teamID: "team_a", by: .api(team: "team_a"))
            #expect(settings.syncVisits == false && settings.syncDocumentLinks && settings.syncSpaceLinks)
            #expect(settings.fieldMapping[.visitDuration] == "DocSend_Duration__c")
            #expect(settings.fieldMapping[.percentViewed] == nil)
            let audit = try #require(try await admin.store.auditEntries(teamID: "team_a", limit: 1).first)
            #expect(audit.action == "settings.update" && audit.actor.hasPrefix("session:"))
            let after = try await Self.get(admin, "/teams/team_a?done=settings", cookie: session.cookie).text
            #expect(after.contains(#"<p class="notice" role="status">Settings saved.</p>"#))
            #expect(after.contains(#"<option value="DocSend_Duration__c" selected>"#))
        }
    }

    @Test
    func syncsCanBeSwitchedBeforeConnecting() async throws {
        try await withAdmin { admin in
            let session = try await admin.session("team_a")
            let page = try await Self.get(admin, "/teams/team_a", cookie: session.cookie).text
            #expect(page.contains("Not connected"))
            #expect(page.contains(#"id="mapping-unavailable""#))
            #expect(!page.contains(#"action="/teams/team_a/disconnect""#))
            let saved = try await Self.post(
                admin, "/teams/team_a/settings", cookie: session.cookie, "csrf_token=\(session.csrf)&settings_form=1&sync_visits=on")
            #expect(saved.status == 303)
            let settings = try await admin.service.settings(teamID: "team_a", by: .api(team: "team_a"))
            #expect(settings.syncVisits && !settings.syncDocumentLinks && !settings.syncSpaceLinks)
            // A mapping needs the org: the page says so (409) instead of saving.
            let refused = try await Self.post(
                admin, "/teams/team_a/settings", cookie: session.cookie,
                "csrf_token=\(session.csrf)&field_mapping.visit_duration=DocSend_Duration__c")
            #expect(refused.status == 409)
            #expect(refused.text.contains("connect it first"))
        }
    }

    @Test
    func accountLinksAreSearchedAddedAndRemovedFromThePage() async throws {
        try await withAdmin { admin in
            let session = try await admin.connect("team_a")
            let search = try await Self.get(admin, "/teams/team_a?account_search=acme", cookie: session.cookie).text
            #expect(search.contains("Acme Corporation"))
            let acme = try #require(
                try await admin.service.searchAccounts(teamID: "team_a", name: "Acme Corporation", by: .api(team: "team_a")).first)
            #expect(search.contains(#"<option value="\#(acme.id)""#), "the results are the link form's choices")

            let empty = try await Self.post(
                admin, "/teams/team_a/account-links", cookie: session.cookie,
                "csrf_token=\(session.csrf)&docsend_account_id=&salesforce_account_id=xyz")
            #expect(empty.status == 422)
            #expect(empty.text.contains(#"id="f-docsend_account_id-error""#) && empty.text.contains(#"id="f-salesforce_account_id-error""#))
            let missing = try await Self.post(
                admin, "/teams/team_a/account-links", cookie: session.cookie,
                "csrf_token=\(session.csrf)&docsend_account_id=acct_7&salesforce_account_id=001000000000000AAA")
            #expect(missing.status == 422)
            #expect(missing.text.contains("the org has no Account 001000000000000AAA"))
            #expect(missing.text.contains(#"value="acct_7""#), "the form keeps what was typed")

            let added = try await Self.post(
                admin, "/teams/team_a/account-links", cookie: session.cookie,
                "csrf_token=\(session.csrf)&docsend_account_id=acct%207&salesforce_account_id=\(acme.id)")
            #expect(added.status == 303)
            #expect(try await admin.store.accountLink(teamID: "team_a", docSendAccountID: "acct 7") == acme.id)
            let listed = try await Self.get(admin, "/teams/team_a?done=link_added", cookie: session.cookie).text
            #expect(listed.contains("Account linked.") && listed.contains(#"action="/teams/team_a/account-links/acct%207/delete""#))
            #expect(listed.contains(#"aria-label="Remove the link of DocSend account acct 7""#))

            let removed = try await Self.post(
                admin, "/teams/team_a/account-links/acct%207/delete", cookie: session.cookie, "csrf_token=\(session.csrf)")
            #expect(removed.status == 303)
            #expect(try await admin.store.accountLinks(teamID: "team_a") == [])
            let actions = try await admin.store.auditEntries(teamID: "team_a", limit: 2).map(\.action)
            #expect(actions == ["account_link.delete", "account_link.set"])
        }
    }

    @Test
    func parkedMessagesAreReplayedFromThePage() async throws {
        try await withAdmin { admin in
            let session = try await admin.session("team_a")
            admin.parking.items.withLock {
                $0["team_a"] = [ParkedItem(
                    messageID: "evt_1", type: "visit.started", failureCode: "x", failureReason: "y", failedAt: nil, attempts: 2)]
            }
            let reply = try await Self.post(admin, "/teams/team_a/parked/replay", cookie: session.cookie, "csrf_token=\(session.csrf)")
            #expect(reply.status == 303)
            #expect(reply.headers["Location"] == "/teams/team_a?done=replayed&count=1#parked")
            #expect(admin.parking.items.withLock { $0["team_a"] } == nil)
            let page = try await Self.get(admin, "/teams/team_a?done=replayed&count=1", cookie: session.cookie).text
            #expect(page.contains("1 parked message(s) sent back to work.") && page.contains(#"id="no-parked""#))
        }
    }

    /// The whole flow as a browser goes through it: the sandbox's login page (its form, no auto-approve), the
    /// callback's page, the org-change confirmation page, the disconnect confirmation and its result.
    @Test
    func theFlowsPagesSayWhatHappened() async throws {
        try await withAdmin { admin in
            let session = try await admin.session("team_a")
            func login(_ action: String, host: String = "production") async throws -> String {
                let start = try await Self.get(admin, "/teams/team_a/connect?host=\(host)", cookie: session.cookie)
                let authorize = try #require(start.headers["Location"])
                let loginPage = try await admin.request(.get, authorize, headers: Self.browser)
                #expect(loginPage.status == 200 && loginPage.text.contains("<form"))
                // The login page's form: its hidden fields, a user, Allow or Deny.
                var fields = HTMLChecks.hiddenFields(loginPage.text)
                fields["username"] = try #require(HTMLChecks.matches(#"<option>([^<]+)</option>"#, loginPage.text).first?[1])
                fields["action"] = action
                let body = fields.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
                let answer = try await admin.request(
                    .post, admin.sandbox.baseURL + "/services/oauth2/authorize", body: Data(body.utf8),
                    contentType: "application/x-www-form-urlencoded")
                #expect(answer.status == 302)
                return try #require(answer.headers["Location"])
            }
            let denied = try await Self.get(admin, try await login("deny"), cookie: session.cookie)
            #expect(denied.status == 400)
            #expect(denied.text.contains(#"data-outcome="access_denied""#) && denied.text.contains("Salesforce access was denied"))
            #expect(denied.text.contains("nothing was connected"))

            let callback = try await login("allow")
            let connected = try await Self.get(admin, callback, cookie: session.cookie)
            #expect(connected.status == 200)
            #expect(connected.text.contains(#"data-outcome="connected""#) && connected.text.contains("Connected to Salesforce"))
            #expect(try await admin.store.connection(teamID: "team_a") != nil)
            let replayed = try await Self.get(admin, callback, cookie: session.cookie)
            #expect(replayed.status == 400 && replayed.text.contains(#"data-outcome="state_unknown""#))
            let invalidHost = try await Self.get(admin, "/teams/team_a/connect?host=my_domain&my_domain=https://evil.example", cookie: session.cookie)
            #expect(invalidHost.status == 400)
            #expect(invalidHost.text.contains(#"id="f-my_domain-error""#) && invalidHost.text.contains(#"value="https://evil.example""#))

            // Another org: the confirmation page, then its form.
            try await admin.store.saveTeamOrg(
                TeamOrg(teamID: "team_a", organizationID: "00D000000000OLD", instanceURL: "https://old.my.salesforce.com", username: nil))
            let change = try await Self.get(admin, try await login("allow"), cookie: session.cookie)
            #expect(change.text.contains(#"data-outcome="needs_confirmation""#) && change.text.contains("00D000000000OLD"))
            let confirmation = try #require(HTMLChecks.hiddenFields(change.text)["confirmation"])
            let confirmed = try await Self.post(
                admin, "/teams/team_a/connect/confirm", cookie: session.cookie,
                "csrf_token=\(session.csrf)&confirmation=\(confirmation)&action=confirm")
            #expect(confirmed.status == 200)
            #expect(confirmed.text.contains(#"data-outcome="connected""#) && confirmed.text.contains("was cleared"))

            // Disconnect: the confirmation page, then its form.
            let ask = try await Self.get(admin, "/teams/team_a/disconnect", cookie: session.cookie)
            #expect(ask.status == 200 && ask.text.contains(#"data-outcome="confirm_disconnect""#))
            #expect(ask.text.contains(#"name="csrf_token" value="\#(session.csrf)""#))
            let done = try await Self.post(admin, "/teams/team_a/disconnect", cookie: session.cookie, "csrf_token=\(session.csrf)")
            #expect(done.status == 200)
            #expect(done.text.contains(#"data-outcome="disconnected""#) && done.text.contains("Salesforce revoked DocSend&#39;s access."))
            #expect(try await admin.store.connection(teamID: "team_a") == nil)
            let again = try await Self.get(admin, "/teams/team_a/disconnect", cookie: session.cookie)
            #expect(again.status == 409 && again.text.contains("nothing to disconnect"))
        }
    }

    @Test
    func templatesEscapeWhatTheyShow() async throws {
        try await withAdmin { admin in
            let session = try await admin.connect("team_a")
            try await admin.store.saveAccountLink(
                teamID: "team_a", docSendAccountID: #"<script>alert("x")</script>"#, salesforceAccountID: "001A")
            let page = try await Self.get(admin, "/teams/team_a?account_search=%3Cb%3E", cookie: session.cookie).text
            #expect(!page.contains("<script>") && !page.contains("<b>"))
            #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") && page.contains("&lt;b&gt;"))
        }
    }
}

/// Checks on the page's markup (the browser test checks the rendered page too).
enum HTMLChecks {
    static func matches(_ pattern: String, _ text: String) -> [[String]] {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).map { match in
            (0..<match.numberOfRanges).map { index in
                Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
            }
        }
    }

    static func attribute(_ name: String, _ tag: String) -> String? {
        matches(#"\s\#(name)="([^"]*)""#, tag).first?[1]
    }

    /// Every visible input, select and textarea has an id that a `<label for>` names (or an `aria-label`), and every
    /// id its `aria-describedby` names exists.
    static func everyControlIsLabelled(_ page: String) throws {
        let labelled = Set(matches(#"<label[^>]*\sfor="([^"]+)""#, page).map { $0[1] })
        let ids = Set(matches(#"\sid="([^"]+)""#, page).map { $0[1] })
        var controls = 0
        for tag in matches(#"<(input|select|textarea)\b[^>]*>"#, page).map({ $0[0] }) {
            if attribute("type", tag) == "hidden" { continue }
            controls += 1
            let id = attribute("id", tag)
            #expect(id.map(labelled.contains) == true || attribute("aria-label", tag) != nil, "no label: \(tag)")
            for described in (attribute("aria-describedby", tag) ?? "").split(separator: " ") {
                #expect(ids.contains(String(described)), "aria-describedby names a missing id: \(tag)")
            }
        }
        #expect(controls > 0)
    }

    /// One `h1`, and no heading more than one level below the previous one.
    static func headingsAreInOrder(_ page: String) throws {
        let levels = matches(#"<h([1-6])\b"#, page).compactMap { Int($0[1]) }
        #expect(levels.first == 1 && levels.filter { $0 == 1 }.count == 1, "\(levels)")
        for (previous, next) in zip(levels, levels.dropFirst()) { #expect(next <= previous + 1, "\(levels)") }
    }

    /// The hidden fields of a page's (first) forms: name → value, entities decoded.
    static func hiddenFields(_ page: String) -> [String: String] {
        var fields: [String: String] = [:]
        for tag in matches(#"<input\b[^>]*>"#, page).map({ $0[0] }) where attribute("type", tag) == "hidden" {
            guard let name = attribute("name", tag), fields[name] == nil else { continue }
            fields[name] = (attribute("value", tag) ?? "").replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        }
        return fields
    }
}
