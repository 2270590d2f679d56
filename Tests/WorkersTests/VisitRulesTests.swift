import Foundation
import HTTP
import SalesforceSandbox
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// Design §1 item 1, one rule per test, on each `WorldSetup`: the in-memory queue, and end to end on the broker with
/// each store backend (the sandbox over HTTP in both).
@Suite("Visit rules", .timeLimit(.minutes(10)))
struct VisitRulesTests {
    /// Publishes `event`, runs the visit and lead workers until `done` holds, and returns the visit's Task(s).
    private func sync(
        _ harness: FleetHarness, _ events: [Event], until what: String, _ done: @escaping () async throws -> Bool
    ) async throws {
        try await harness.runWorkers([.visits, .leads]) {
            for event in events { try await harness.publish(event) }
            try await eventually(timeout: .seconds(30), what, done)
        }
    }

    private func onlyTask(_ harness: FleetHarness, visit: String) async throws -> SandboxRecord {
        let tasks = await harness.tasks("DocSend_Visit_Id__c", visit)
        #expect(tasks.count == 1)
        return try #require(tasks.first)
    }

    @Test("a Contact match: a closed Task on the Contact, related to the account, owned by the link owner",
          arguments: WorldSetup.available)
    func contactMatch(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let event = Events.started(email: "ALICE@acme.example", name: "Alice Anders", account: Events.acme)
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "the Task") { await harness.visitWrites(visit.visitID) > 0 }
            let task = try await onlyTask(harness, visit: visit.visitID)
            #expect(task["WhoId"]?.stringValue == SandboxSeed.Ids.alice)
            #expect(task["WhatId"]?.stringValue == SandboxSeed.Ids.acme)
            #expect(task["Status"]?.stringValue == "Completed")
            #expect(task["OwnerId"]?.stringValue == SandboxSeed.Ids.rep)
            #expect(task["Subject"]?.stringValue == "DocSend: Alice Anders viewed \"Q4 Pricing Proposal.pdf\"")
            let comments = try #require(task["Description"]?.stringValue)
            for line in [
                "Document name: Q4 Pricing Proposal.pdf", "Account name: Acme Corp", "Visit duration: 0 s",
                "Percent viewed: 0%", "Full analytics: https://docsend.example/analytics/\(visit.visitID)",
            ] {
                #expect(comments.contains(line), "\(line) missing from \(comments)")
            }
            let state = try #require(try await harness.visitState(visit.visitID))
            #expect(state.taskID == task.id)
            let ledger = try await harness.store.ledgerEntry(teamID: FleetHarness.teamID, kind: .visit, objectID: visit.visitID)
            #expect(ledger?.salesforceID == task.id)
        }
    }

    @Test("a Contact of another Account: WhatId is the Contact's own Account unless the DocSend account is linked",
          arguments: WorldSetup.available)
    func contactOwnAccount(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            // Alice is Acme's Contact; the visit is on the DocSend account "Globex" (found by name, not linked).
            let byName = Events.started(email: "alice@acme.example", account: AccountInfo(id: "acct_globex", name: "Globex"))
            let linked = Events.started(
                email: "alice@acme.example",
                account: AccountInfo(id: "acct_globex", name: "Globex", salesforceAccountID: SandboxSeed.Ids.globex))
            guard case .visitStarted(let a) = byName.payload, case .visitStarted(let b) = linked.payload else { return }
            try await sync(harness, [byName, linked], until: "both Tasks") {
                let first = await harness.visitWrites(a.visitID) > 0
                let second = await harness.visitWrites(b.visitID) > 0
                return first && second
            }
            let own = try await onlyTask(harness, visit: a.visitID)
            #expect(own["WhoId"]?.stringValue == SandboxSeed.Ids.alice)
            #expect(own["WhatId"]?.stringValue == SandboxSeed.Ids.acme, "the Contact's own Account, not Globex by name")
            let explicit = try await onlyTask(harness, visit: b.visitID)
            #expect(explicit["WhoId"]?.stringValue == SandboxSeed.Ids.alice)
            #expect(explicit["WhatId"]?.stringValue == SandboxSeed.Ids.globex, "the explicit link wins")
        }
    }

    @Test("a Lead match: a Task on the Lead with no WhatId", arguments: WorldSetup.available)
    func leadMatch(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let event = Events.started(email: "carol@initech.example", account: AccountInfo(id: "acct_initech", name: "Initech"))
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "the Task") { await harness.visitWrites(visit.visitID) > 0 }
            let task = try await onlyTask(harness, visit: visit.visitID)
            #expect(task["WhoId"]?.stringValue == SandboxSeed.Ids.carol)
            #expect(task["WhatId"] == nil || task["WhatId"] == .null)
            #expect(task["Status"]?.stringValue == "Completed")
        }
    }

    @Test("a converted Lead is not matched: the visit is not synced, with its reason", arguments: WorldSetup.available)
    func convertedLeadSkipped(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let event = Events.started(email: "eve@oldco.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "the visit recorded as not synced") {
                try await harness.visitState(visit.visitID)?.notSynced != nil
            }
            #expect(await harness.tasks("DocSend_Visit_Id__c", visit.visitID).isEmpty)
            let state = try #require(try await harness.visitState(visit.visitID))
            #expect(state.notSynced?.code == "unmatched_email_and_no_account")
            #expect(state.sync.isFinished)
        }
    }

    @Test("account fallback by the event's linked Account id", arguments: WorldSetup.available)
    func accountFallbackByLinkedID(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let account = AccountInfo(id: "acct_globex", name: "Globex Corporation", salesforceAccountID: SandboxSeed.Ids.globex)
            let event = Events.started(email: "nobody@globex.example", account: account)
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "the Task") { await harness.visitWrites(visit.visitID) > 0 }
            let task = try await onlyTask(harness, visit: visit.visitID)
            #expect(task["WhatId"]?.stringValue == SandboxSeed.Ids.globex)
            #expect(task["WhoId"] == nil || task["WhoId"] == .null)
            #expect(task["Status"]?.stringValue == "Completed")
        }
    }

    @Test("account fallback by the account link stored for the team", arguments: WorldSetup.available)
    func accountFallbackByStoredLink(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            try await harness.store.saveAccountLink(
                teamID: FleetHarness.teamID, docSendAccountID: "acct_g", salesforceAccountID: SandboxSeed.Ids.globex)
            let event = Events.started(email: "nobody@globex.example", account: AccountInfo(id: "acct_g", name: "Some other name"))
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "the Task") { await harness.visitWrites(visit.visitID) > 0 }
            #expect(try await onlyTask(harness, visit: visit.visitID)["WhatId"]?.stringValue == SandboxSeed.Ids.globex)
        }
    }

    @Test("account fallback by an Account with exactly that name", arguments: WorldSetup.available)
    func accountFallbackByName(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let event = Events.started(email: "nobody@acme.example", account: Events.acme)
            let nearMiss = Events.started(email: "nobody@acme.example", account: AccountInfo(id: "acct_x", name: "Acme Corp."))
            guard case .visitStarted(let visit) = event.payload, case .visitStarted(let missed) = nearMiss.payload else { return }
            try await sync(harness, [event, nearMiss], until: "both visits handled") {
                let written = await harness.visitWrites(visit.visitID) > 0
                let recorded = try await harness.visitState(missed.visitID)?.notSynced != nil
                return written && recorded
            }
            #expect(try await onlyTask(harness, visit: visit.visitID)["WhatId"]?.stringValue == SandboxSeed.Ids.acme)
            #expect(await harness.tasks("DocSend_Visit_Id__c", missed.visitID).isEmpty)
        }
    }

    @Test("option create new leads: a Lead for the unmatched email, and the Task on it", arguments: WorldSetup.available)
    func leadCreation(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createLeadsForUnmatchedEmails: true)) { harness in
            let event = Events.started(email: "Zed.Zero@newco.example", name: "Zed Zero", account: AccountInfo(id: "acct_n", name: "Newco"))
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "the Task on the new Lead") { await harness.visitWrites(visit.visitID) > 0 }
            let leads = await harness.leads(email: "zed.zero@newco.example")
            #expect(leads.count == 1)
            let lead = try #require(leads.first)
            #expect(lead["LastName"]?.stringValue == "Zero")
            #expect(lead["FirstName"]?.stringValue == "Zed")
            #expect(lead["Company"]?.stringValue == "Newco")
            #expect(lead["LeadSource"]?.stringValue == "DocSend")
            let task = try await onlyTask(harness, visit: visit.visitID)
            #expect(task["WhoId"]?.stringValue == lead.id)
            #expect(task["Status"]?.stringValue == "Completed")
        }
    }

    @Test(
        "option create new leads, LeadSource a restricted picklist without DocSend: the Lead is made without it, nothing parks",
        arguments: WorldSetup.available)
    func leadSourceRefused(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createLeadsForUnmatchedEmails: true)) { harness in
            var seed = SandboxSeed.workerTests
            seed.picklists = ["Lead.LeadSource": PicklistSeed(values: ["Web", "Partner"], restricted: true)]
            try await harness.sandbox.org.reset(to: seed)
            let event = Events.started(email: "yara@newco.example", name: "Yara Young", account: AccountInfo(id: "acct_n", name: "Newco"))
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "the Task on the new Lead") { await harness.visitWrites(visit.visitID) > 0 }
            let lead = try #require(await harness.leads(email: "yara@newco.example").first)
            #expect(lead["LeadSource"] == nil || lead["LeadSource"] == .null, "\(lead)")
            #expect(try await onlyTask(harness, visit: visit.visitID)["WhoId"]?.stringValue == lead.id)
            #expect(try await harness.parkedCount() == 0)
        }
    }

    @Test(
        "option create new leads turned off while the visit's lead request waits: no Lead, the visit routed again without it",
        arguments: WorldSetup.available)
    func leadOptionTurnedOff(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createLeadsForUnmatchedEmails: true)) { harness in
            let event = Events.started(email: "late@newco.example", name: "Late Comer")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await harness.runWorkers([.visits]) {
                try await harness.publish(event)
                try await eventually("the lead request sent") { try await harness.visitState(visit.visitID)?.awaitingLead == true }
            }
            try await harness.saveSettings(TeamSettings(createLeadsForUnmatchedEmails: false), teamID: FleetHarness.teamID)
            try await sync(harness, [], until: "routed again") { try await harness.visitState(visit.visitID)?.notSynced != nil }
            #expect(await harness.leads(email: "late@newco.example").isEmpty)
            let state = try #require(try await harness.visitState(visit.visitID))
            #expect(state.notSynced?.code == "unmatched_email_and_no_account")
            #expect(!state.awaitingLead)
            #expect(try await harness.parkedCount() == 0)
        }
    }

    @Test("option create open tasks: an open Task assigned to the link owner", arguments: WorldSetup.available)
    func openTaskForUnmatched(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createOpenTasksForUnmatchedRecords: true)) { harness in
            let event = Events.started(email: "stranger@nowhere.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "the Task") { await harness.visitWrites(visit.visitID) > 0 }
            let task = try await onlyTask(harness, visit: visit.visitID)
            #expect(task["Status"]?.stringValue == "Not Started")
            #expect(task["IsClosed"]?.boolValue == false)
            #expect(task["OwnerId"]?.stringValue == SandboxSeed.Ids.rep)
            #expect(task["WhoId"] == nil || task["WhoId"] == .null)
        }
    }

    @Test(
        "option create open tasks, link owner no Salesforce User: the open Task goes to the admin who connected the org",
        arguments: WorldSetup.available)
    func openTaskFallbackOwner(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createOpenTasksForUnmatchedRecords: true)) { harness in
            // Connected as `docsend-sync team connect` and the admin page do: the token's identity URL names the User.
            let http = try HTTPClient(logger: FleetHarness.logger)
            do {
                let administration = TeamAdministration(
                    store: harness.store, app: harness.app, http: http, logger: FleetHarness.logger)
                _ = try await administration.connect(
                    teamID: FleetHarness.teamID, loginURL: harness.sandbox.baseURL, clientID: SandboxSeed.Demo.clientId,
                    refreshToken: SandboxSeed.Demo.refreshToken)
            } catch {
                await http.shutdown()
                throw error
            }
            await http.shutdown()
            let admin = SalesforceID.normalize("0055g00000Admin") ?? ""
            let connection = try await harness.store.connection(teamID: FleetHarness.teamID)
            #expect(connection?.connectedUserID == admin)

            let event = Events.started(email: "stranger@nowhere.example", owner: "nobody@docsend.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "the Task") { await harness.visitWrites(visit.visitID) > 0 }
            let task = try await onlyTask(harness, visit: visit.visitID)
            #expect(task["IsClosed"]?.boolValue == false)
            #expect(task["OwnerId"]?.stringValue == admin)

            // No recorded admin either (a connection stored before it was recorded): skipped, with its reason.
            try await harness.connectTeam(settings: TeamSettings(createOpenTasksForUnmatchedRecords: true))
            let orphan = Events.started(email: "stranger@nowhere.example", owner: "nobody@docsend.example")
            guard case .visitStarted(let skipped) = orphan.payload else { return }
            try await sync(harness, [orphan], until: "recorded") { try await harness.visitState(skipped.visitID)?.notSynced != nil }
            #expect(try await harness.visitState(skipped.visitID)?.notSynced?.code == "no_follow_up_owner")
        }
    }

    @Test(
        "option create open tasks, the admin who connected the org now inactive: no Task assigned to them, the reason kept",
        arguments: WorldSetup.available)
    func openTaskFallbackOwnerInactive(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createOpenTasksForUnmatchedRecords: true)) { harness in
            var seed = SandboxSeed.workerTests
            seed.users = seed.users?.map { user in
                guard case .object(var fields) = user, fields["Username"] == "admin@sandbox.example" else { return user }
                fields["IsActive"] = false
                return .object(fields)
            }
            try await harness.sandbox.org.reset(to: seed)
            let admin = SalesforceID.normalize("0055g00000Admin") ?? ""
            try await harness.store.saveConnection(
                SalesforceConnection(
                    teamID: FleetHarness.teamID, instanceURL: harness.sandbox.baseURL, loginURL: harness.sandbox.baseURL,
                    clientID: SandboxSeed.Demo.clientId, refreshToken: SandboxSeed.Demo.refreshToken, connectedUserID: admin))
            let event = Events.started(email: "stranger@nowhere.example", owner: "nobody@docsend.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "recorded") { try await harness.visitState(visit.visitID)?.notSynced != nil }
            #expect(try await harness.visitState(visit.visitID)?.notSynced?.code == "no_follow_up_owner")
            #expect(await harness.tasks("DocSend_Visit_Id__c", visit.visitID).isEmpty)
        }
    }

    @Test("a time zone that is not an IANA name is refused by the administration itself, whoever calls it")
    func timeZoneCheckedOnUpdate() async throws {
        try await FleetHarness.with(WorldSetup(backend: .sqlite, transport: .memory), settings: TeamSettings()) { harness in
            let http = try HTTPClient(logger: FleetHarness.logger)
            let administration = TeamAdministration(store: harness.store, app: harness.app, http: http, logger: FleetHarness.logger)
            do {
                await #expect(throws: TeamAdministration.InvalidSetting.self) {
                    try await administration.updateSettings(teamID: FleetHarness.teamID) { $0.timeZone = "PST" }
                }
                #expect(try await administration.settings(teamID: FleetHarness.teamID).timeZone == TeamSettings.defaultTimeZone)
                let saved = try await administration.updateSettings(teamID: FleetHarness.teamID) { $0.timeZone = "Europe/Paris" }
                #expect(saved.timeZone == "Europe/Paris")
            } catch {
                await http.shutdown()
                throw error
            }
            await http.shutdown()
        }
    }

    @Test("the team's time zone dates every Task: a Pacific evening visit and link are dated that day, not UTC's next",
          arguments: WorldSetup.available)
    func activityDateInTeamTimeZone(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(timeZone: "America/Los_Angeles")) { harness in
            let evening = Date(timeIntervalSince1970: 1_795_149_000)  // 2026-11-20T04:30Z, 20:30 on the 19th in California
            let visitEvent = Events.started(email: "alice@acme.example", account: Events.acme, at: evening)
            let linkEvent = Events.linkCreated(account: Events.acme, at: evening)
            guard case .visitStarted(let visit) = visitEvent.payload, case .linkCreated(let link) = linkEvent.payload
            else { return }
            try await harness.runWorkers([.visits, .links, .leads]) {
                try await harness.publish(visitEvent)
                try await harness.publish(linkEvent)
                try await eventually(timeout: .seconds(30), "both Tasks") {
                    let visitDone = await harness.visitWrites(visit.visitID) > 0
                    let linkDone = await harness.tasks("DocSend_Link_Id__c", link.linkID).count == 1
                    return visitDone && linkDone
                }
            }
            let visitTask = try await onlyTask(harness, visit: visit.visitID)
            #expect(visitTask["ActivityDate"]?.stringValue == "2026-11-19")
            let linkTask = await harness.tasks("DocSend_Link_Id__c", link.linkID).first
            #expect(linkTask?["ActivityDate"]?.stringValue == "2026-11-19")
        }
    }

    @Test("nothing matched and no option: not synced, with the reason kept", arguments: WorldSetup.available)
    func notSyncedWithReason(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let noEmail = Events.started(email: nil, name: "Anonymous")
            let unmatched = Events.started(email: "stranger@nowhere.example")
            guard case .visitStarted(let a) = noEmail.payload, case .visitStarted(let b) = unmatched.payload else { return }
            try await sync(harness, [noEmail, unmatched], until: "both recorded") {
                let first = try await harness.visitState(a.visitID)?.notSynced != nil
                let second = try await harness.visitState(b.visitID)?.notSynced != nil
                return first && second
            }
            #expect(try await harness.visitState(a.visitID)?.notSynced?.code == "no_email_and_no_account")
            #expect(try await harness.visitState(b.visitID)?.notSynced?.code == "unmatched_email_and_no_account")
            #expect(await harness.tasks().isEmpty)
        }
    }

    @Test("visit sync off: a matching visit is not synced", arguments: WorldSetup.available)
    func visitSyncOff(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(syncVisits: false)) { harness in
            let event = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "recorded") { try await harness.visitState(visit.visitID)?.notSynced != nil }
            #expect(try await harness.visitState(visit.visitID)?.notSynced?.code == "visit_sync_disabled")
            #expect(await harness.tasks().isEmpty)
        }
    }

    @Test("option create new leads off: an unmatched email makes no Lead", arguments: WorldSetup.available)
    func leadOptionOff(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createLeadsForUnmatchedEmails: false)) { harness in
            let event = Events.started(email: "zed@newco.example", name: "Zed")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "recorded") { try await harness.visitState(visit.visitID)?.notSynced != nil }
            #expect(await harness.leads(email: "zed@newco.example").isEmpty)
        }
    }

    @Test("field mapping: the properties also land in custom Task fields", arguments: WorldSetup.available)
    func fieldMapping(setup: WorldSetup) async throws {
        let settings = TeamSettings(fieldMapping: [
            .visitDuration: "DocSend_Duration__c", .percentViewed: "DocSend_Percent_Viewed__c",
            .documentName: "DocSend_Document__c", .analyticsLink: "DocSend_Analytics_URL__c",
        ])
        try await FleetHarness.with(setup, settings: settings) { harness in
            let start = Date()
            let event = Events.started(email: "alice@acme.example", at: start)
            guard case .visitStarted(let visit) = event.payload else { return }
            let update = Events.updated(visit.visitID, duration: 42, percent: 37.5, at: start.addingTimeInterval(1))
            try await harness.runWorkers([.visits]) {
                // The update first (kept: no start yet), then the start, which writes the Task with its values.
                try await harness.publish(update)
                try await eventually("the update kept") { try await harness.visitState(visit.visitID)?.sync.latest != nil }
                try await harness.publish(event)
                try await eventually("the Task") { await harness.visitWrites(visit.visitID) > 0 }
            }
            let task = try await onlyTask(harness, visit: visit.visitID)
            #expect(task["DocSend_Duration__c"]?.numberValue == 42)
            #expect(task["DocSend_Percent_Viewed__c"]?.numberValue == 37.5)
            #expect(task["DocSend_Document__c"]?.stringValue == "Q4 Pricing Proposal.pdf")
            #expect(task["DocSend_Analytics_URL__c"]?.stringValue == "https://docsend.example/analytics/\(visit.visitID)")
        }
    }

    @Test("hostile visitor strings: SOQL stays escaped, lines cannot be forged, lengths are cut", arguments: WorldSetup.available)
    func hostileStrings(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createOpenTasksForUnmatchedRecords: true)) { harness in
            let email = #"x' OR Email != 'y\@evil.example"#
            let event = Events.started(
                email: email, name: "Eve\nStatus: Completed\r\nOwner: nobody", account: AccountInfo(id: "a", name: "Acme' OR Name != '"),
                document: String(repeating: "Très long nom ", count: 40))
            guard case .visitStarted(let visit) = event.payload else { return }
            try await sync(harness, [event], until: "the open Task") { await harness.visitWrites(visit.visitID) > 0 }
            let task = try await onlyTask(harness, visit: visit.visitID)
            #expect(task["Status"]?.stringValue == "Not Started", "the injected email matched nobody")
            let subject = try #require(task["Subject"]?.stringValue)
            #expect(subject.utf16.count <= 255)
            let comments = try #require(task["Description"]?.stringValue)
            #expect(!comments.split(separator: "\n").contains { $0.hasPrefix("Status:") || $0.hasPrefix("Owner:") })
        }
    }
}

/// The org's metadata on a cold process: one load per org, however many jobs are in flight.
@Suite("Org metadata, single-flight", .timeLimit(.minutes(5)))
struct OrgMetadataTests {
    @Test("12 visits at once on a cold process: one TaskStatus query, one Task describe, one User query", arguments: WorldSetup.available)
    func coldStart(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let events = (0..<12).map { _ in Events.started(email: "alice@acme.example", account: Events.acme) }
            let visitIDs = events.compactMap { event -> String? in
                guard case .visitStarted(let visit) = event.payload else { return nil }
                return visit.visitID
            }
            try await harness.runWorkers([.visits], concurrency: 12) {
                for event in events { try await harness.publish(event) }
                try await eventually(timeout: .seconds(60), "every Task") {
                    var written = 0
                    for id in visitIDs where await harness.visitWrites(id) > 0 { written += 1 }
                    return written == visitIDs.count
                }
            }
            let requests = await harness.sandbox.org.requests()
            let queries = requests.compactMap { $0.path.hasSuffix("/query") ? $0.query["q"] : nil }
            #expect(queries.filter { $0.contains("FROM TaskStatus") }.count == 1)
            #expect(queries.filter { $0.contains("FROM User") }.count == 1)
            var describes = 0
            for request in requests where request.path.hasSuffix("/sobjects/Task/describe") { describes += 1 }
            #expect(describes == 1)
        }
    }
}
