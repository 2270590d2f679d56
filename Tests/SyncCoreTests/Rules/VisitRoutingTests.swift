import Foundation
import Testing

@testable import SyncCore

/// Design §1, item 1, rule by rule: where a visit goes.
@Suite("Visit routing (design §1 item 1)")
struct VisitRoutingTests {
    let both = TeamSettings(createLeadsForUnmatchedEmails: true, createOpenTasksForUnmatchedRecords: true)

    func route(
        _ visit: VisitStarted = Fixture.visit(), settings: TeamSettings = .init(),
        people: [SalesforcePerson] = [], accounts: [SalesforceAccount] = [], users: [SalesforceUser] = [Fixture.owner]
    ) -> VisitRoute {
        VisitRouting.route(visit, settings: settings, people: people, accounts: accounts, users: users)
    }

    @Test("A visitor email matching a Contact logs a closed Task on the Contact, related to the Contact's own Account")
    func contactMatch() {
        // The DocSend account's name finds 001ACME, but the Contact belongs to 001CONTACTACC: the org's word wins.
        let result = route(
            people: [Fixture.contact("003A")], accounts: [Fixture.account("001ACME")])
        #expect(result == .task(.contact("003A", account: "001CONTACTACC"), .logged, ownerID: "005OWNER"))
    }

    @Test("A Contact's Task: WhatId is its own Account unless the DocSend account is explicitly linked")
    func contactWhatID() {
        let own = Fixture.contact("003A", account: "001OWN")
        let privateContact = Fixture.contact("003P", account: nil)
        // An explicit link (event id or stored link) wins over the Contact's own Account.
        #expect(Matching.contactAccount(own, visitAccount: .linked(id: "001LINKED")) == "001LINKED")
        #expect(Matching.contactAccount(privateContact, visitAccount: .linked(id: "001LINKED")) == "001LINKED")
        // Otherwise the Contact's own Account, whatever the name found.
        #expect(Matching.contactAccount(own, visitAccount: .byName(id: "001ACME")) == "001OWN")
        #expect(Matching.contactAccount(own, visitAccount: .none) == "001OWN")
        #expect(Matching.contactAccount(own, visitAccount: .ambiguousName(name: "Acme", count: 2)) == "001OWN")
        // A Contact with no Account: the Account of that name, else nothing.
        #expect(Matching.contactAccount(privateContact, visitAccount: .byName(id: "001ACME")) == "001ACME")
        #expect(Matching.contactAccount(privateContact, visitAccount: .none) == nil)
        #expect(Matching.contactAccount(Fixture.contact("003E", account: " "), visitAccount: .none) == nil)
        // Through the routing: a linked DocSend account keeps the link.
        #expect(
            route(Fixture.visit(account: Fixture.linkedAcme), people: [own])
                == .task(.contact("003A", account: "001LINKED"), .logged, ownerID: "005OWNER"))
    }

    @Test("A visitor email matching a Lead logs a closed Task on the Lead, with no WhatId")
    func leadMatch() {
        let result = route(people: [Fixture.lead("00QA")], accounts: [Fixture.account("001ACME")])
        #expect(result == .task(.lead("00QA"), .logged, ownerID: "005OWNER"))
        #expect(TaskRelations.lead("00QA").whatID == nil)
    }

    @Test("A Contact wins over a more recently modified Lead")
    func contactOverLead() {
        let result = route(people: [Fixture.lead("00QA", modified: 999), Fixture.contact("003A", modified: 1)])
        #expect(result == .task(.contact("003A", account: "001CONTACTACC"), .logged, ownerID: "005OWNER"))
    }

    @Test("A converted Lead is skipped")
    func convertedLeadSkipped() {
        let result = route(
            Fixture.visit(account: nil), people: [Fixture.lead("00QOLD", converted: true)])
        #expect(result == .notSynced(.unmatchedEmailAndNoAccount))
        let withLive = route(people: [Fixture.lead("00QOLD", converted: true, modified: 9), Fixture.lead("00QNEW")])
        #expect(withLive == .task(.lead("00QNEW"), .logged, ownerID: "005OWNER"))
    }

    @Test("No email match: the visit goes to the linked Salesforce Account id")
    func accountFallbackByID() {
        let result = route(Fixture.visit(account: Fixture.linkedAcme), accounts: [Fixture.account("001BYNAME")])
        #expect(result == .task(.account("001LINKED"), .logged, ownerID: "005OWNER"))
    }

    @Test("No email match and no linked id: the visit goes to the Account with exactly that name")
    func accountFallbackByName() {
        let result = route(accounts: [Fixture.account("001NEAR", name: "ACME"), Fixture.account("001ACME")])
        #expect(result == .task(.account("001ACME"), .logged, ownerID: "005OWNER"))
    }

    @Test("Several Accounts with exactly that name: none is chosen, the visit is not synced, saying why")
    func ambiguousAccountName() {
        let result = route(accounts: [Fixture.account("001A"), Fixture.account("001B", modified: 50)])
        #expect(result == .notSynced(.ambiguousAccountName(name: "Acme", count: 2)))
    }

    @Test("Option create leads: an unmatched email becomes a Lead and the Task goes on it")
    func leadCreation() throws {
        let result = route(
            Fixture.visit(account: nil), settings: TeamSettings(createLeadsForUnmatchedEmails: true))
        guard case .createLead(let draft, let owner) = result else {
            Issue.record("expected a lead, got \(result)")
            return
        }
        #expect(owner == "005OWNER")
        #expect(draft.email == "ada@acme.example")
        #expect(draft.company == "acme.example")
    }

    @Test("Option create leads wins over the account fallback: the email is still unmatched")
    func leadCreationBeforeAccountFallback() {
        let result = route(
            Fixture.visit(account: Fixture.linkedAcme), settings: both)
        guard case .createLead(let draft, _) = result else {
            Issue.record("expected a lead, got \(result)")
            return
        }
        #expect(draft.company == "Acme")
    }

    @Test("Option create leads needs an email: without one, the next rule applies")
    func leadCreationNeedsEmail() {
        let result = route(
            Fixture.visit(email: nil, account: nil), settings: TeamSettings(createLeadsForUnmatchedEmails: true))
        #expect(result == .notSynced(.noEmailAndNoAccount))
    }

    @Test("An email too long for a Lead is said so when nothing else applies")
    func leadEmailTooLong() {
        let email = String(repeating: "a", count: 75) + "@x.example"
        let result = route(
            Fixture.visit(email: email, account: nil), settings: TeamSettings(createLeadsForUnmatchedEmails: true))
        #expect(result == .notSynced(.leadNotCreatable(.emailTooLong(length: 85))))
        // …and falls through to the open-task option when it is on.
        let open = route(Fixture.visit(email: email, account: nil), settings: both)
        #expect(open == .task(.unrelated, .followUp, ownerID: "005OWNER"))
    }

    @Test("Option open tasks: an unmatched visit becomes an open Task assigned to the link owner")
    func openTaskForUnmatched() {
        let settings = TeamSettings(createOpenTasksForUnmatchedRecords: true)
        #expect(
            route(Fixture.visit(account: nil), settings: settings) == .task(.unrelated, .followUp, ownerID: "005OWNER"))
        // On the account when it is in Salesforce: it matched no Lead or Contact, so it is for follow-up.
        #expect(
            route(Fixture.visit(account: Fixture.linkedAcme), settings: settings)
                == .task(.account("001LINKED"), .followUp, ownerID: "005OWNER"))
    }

    @Test("Option open tasks without a Salesforce User for the link owner: no open Task")
    func openTaskNeedsOwner() {
        let settings = TeamSettings(createOpenTasksForUnmatchedRecords: true)
        #expect(route(Fixture.visit(account: nil), settings: settings, users: []) == .notSynced(.noFollowUpOwner))
        #expect(
            route(Fixture.visit(account: Fixture.linkedAcme), settings: settings, users: [])
                == .task(.account("001LINKED"), .logged, ownerID: nil))
        let inactive = SalesforceUser(id: "005OLD", email: "owner@docsend.example", isActive: false)
        #expect(
            route(Fixture.visit(account: nil), settings: settings, users: [inactive]) == .notSynced(.noFollowUpOwner))
    }

    @Test("Option open tasks, the link owner no Salesforce User: the admin who connected the org gets the open Task")
    func openTaskFallsBackToConnectingAdmin() {
        let settings = TeamSettings(createOpenTasksForUnmatchedRecords: true)
        func fallback(_ visit: VisitStarted, _ settings: TeamSettings, users: [SalesforceUser] = [], _ admin: String?)
            -> VisitRoute
        {
            VisitRouting.route(visit, settings: settings, people: [], accounts: [], users: users, fallbackOwnerID: admin)
        }
        #expect(
            fallback(Fixture.visit(account: nil), settings, "005ADMIN") == .task(.unrelated, .followUp, ownerID: "005ADMIN"))
        #expect(
            fallback(Fixture.visit(account: Fixture.linkedAcme), settings, "005ADMIN")
                == .task(.account("001LINKED"), .followUp, ownerID: "005ADMIN"))
        // The link owner's User, when there is one, comes first.
        #expect(
            fallback(Fixture.visit(account: nil), settings, users: [Fixture.owner], "005ADMIN")
                == .task(.unrelated, .followUp, ownerID: "005OWNER"))
        // No fallback either (or a blank one): skipped with its reason.
        #expect(fallback(Fixture.visit(account: nil), settings, nil) == .notSynced(.noFollowUpOwner))
        #expect(fallback(Fixture.visit(account: nil), settings, " ") == .notSynced(.noFollowUpOwner))
        // Only follow-up Tasks take the fallback: with the option off, a logged Task keeps the integration user.
        #expect(
            fallback(Fixture.visit(account: Fixture.linkedAcme), TeamSettings(), "005ADMIN")
                == .task(.account("001LINKED"), .logged, ownerID: nil))
        #expect(fallback(Fixture.visit(account: nil), TeamSettings(), "005ADMIN") == .notSynced(.unmatchedEmailAndNoAccount))
        #expect(
            VisitRouting.route(
                Fixture.visit(), settings: settings, people: [Fixture.contact("003A")], accounts: [], users: [],
                fallbackOwnerID: "005ADMIN")
                == .task(.contact("003A", account: "001CONTACTACC"), .logged, ownerID: nil))
    }

    @Test("Matched visits stay closed Tasks even with the open-task option on")
    func matchedStaysLogged() {
        #expect(
            route(settings: both, people: [Fixture.contact("003A")])
                == .task(.contact("003A", account: "001CONTACTACC"), .logged, ownerID: "005OWNER"))
    }

    @Test("Nothing matched and no option applies: not synced, with a reason")
    func notSyncedWithReason() {
        let noEmail = route(Fixture.visit(email: nil, account: nil))
        #expect(noEmail == .notSynced(.noEmailAndNoAccount))
        let unmatched = route(Fixture.visit(account: nil))
        #expect(unmatched == .notSynced(.unmatchedEmailAndNoAccount))
        #expect(NotSyncedReason.unmatchedEmailAndNoAccount.code == "unmatched_email_and_no_account")
        #expect("\(NotSyncedReason.unmatchedEmailAndNoAccount)".contains("matches no Lead or Contact"))
    }

    @Test("Visit sync off: nothing is synced, whatever matches")
    func visitSyncOff() {
        let result = route(settings: TeamSettings(syncVisits: false), people: [Fixture.contact("003A")])
        #expect(result == .notSynced(.syncDisabled(.visit)))
        #expect(NotSyncedReason.syncDisabled(.visit).description == "visit sync is turned off in the team's settings")
    }

    @Test("Each option off: its rule does not apply")
    func optionsOff() {
        let off = TeamSettings(createLeadsForUnmatchedEmails: false, createOpenTasksForUnmatchedRecords: false)
        #expect(route(Fixture.visit(account: nil), settings: off) == .notSynced(.unmatchedEmailAndNoAccount))
        #expect(
            route(Fixture.visit(account: Fixture.linkedAcme), settings: off)
                == .task(.account("001LINKED"), .logged, ownerID: "005OWNER"))
    }

    @Test("The Task owner is the link owner's Salesforce User when one exists")
    func ownerWhenExists() {
        #expect(
            route(people: [Fixture.contact("003A")], users: [])
                == .task(.contact("003A", account: "001CONTACTACC"), .logged, ownerID: nil))
    }
}

@Suite("Link routing (design §1 items 2 and 3)")
struct LinkRoutingTests {
    @Test("A document link on an associated account logs a Task on that Account")
    func linkOnAccount() {
        let route = LinkRouting.route(Fixture.link(), settings: .init(), accounts: [], users: [Fixture.owner])
        #expect(route == .task(accountID: "001LINKED", ownerID: "005OWNER"))
    }

    @Test("A link whose account is not in Salesforce, or that has none, is not synced")
    func linkWithoutAccount() {
        #expect(
            LinkRouting.route(Fixture.link(account: nil), settings: .init(), accounts: [], users: [])
                == .notSynced(.noSalesforceAccount))
        #expect(
            LinkRouting.route(Fixture.link(account: Fixture.acme), settings: .init(), accounts: [], users: [])
                == .notSynced(.noSalesforceAccount))
        #expect(
            LinkRouting.route(
                Fixture.link(account: Fixture.acme), settings: .init(), accounts: [Fixture.account("001ACME")],
                users: [])
                == .task(accountID: "001ACME", ownerID: nil))
    }

    @Test("Document link and space link syncs switch off independently")
    func togglesOff() {
        let noLinks = TeamSettings(syncDocumentLinks: false)
        #expect(
            LinkRouting.route(Fixture.link(), settings: noLinks, accounts: [], users: [])
                == .notSynced(.syncDisabled(.documentLink)))
        #expect(
            LinkRouting.route(Fixture.spaceLink(), settings: noLinks, accounts: [], users: [])
                == .task(accountID: "001LINKED", ownerID: nil))
        let noSpaces = TeamSettings(syncSpaceLinks: false)
        #expect(
            LinkRouting.route(Fixture.spaceLink(), settings: noSpaces, accounts: [], users: [])
                == .notSynced(.syncDisabled(.spaceLink)))
    }

    @Test("An existing link Task's visitors are written only while document link sync is on")
    func visitorRefreshHonoursToggle() {
        #expect(LinkRouting.visitorRefresh(settings: .init()) == nil)
        #expect(LinkRouting.visitorRefresh(settings: TeamSettings(syncSpaceLinks: false)) == nil)
        #expect(
            LinkRouting.visitorRefresh(settings: TeamSettings(syncDocumentLinks: false))
                == .syncDisabled(.documentLink))
    }
}
