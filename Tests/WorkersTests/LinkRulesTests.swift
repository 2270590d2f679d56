import Foundation
import SalesforceSandbox
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// Design §1 items 2 and 3: document link and space link Tasks, and a link Task's visitors, on each `WorldSetup`:
/// the in-memory queue, and end to end on the broker with each store backend.
@Suite("Link rules", .timeLimit(.minutes(10)))
struct LinkRulesTests {
    @Test("link.created on an associated account: a Task on the Account with the link's properties",
          arguments: WorldSetup.available)
    func linkTask(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let event = Events.linkCreated(account: Events.acme)
            guard case .linkCreated(let link) = event.payload else { return }
            try await harness.runWorkers([.links]) {
                try await harness.publish(event)
                try await eventually("the link Task") { await harness.tasks("DocSend_Link_Id__c", link.linkID).count == 1 }
            }
            let task = try #require(await harness.tasks("DocSend_Link_Id__c", link.linkID).first)
            #expect(task["WhatId"]?.stringValue == SandboxSeed.Ids.acme)
            #expect(task["OwnerId"]?.stringValue == SandboxSeed.Ids.rep)
            #expect(task["Status"]?.stringValue == "Completed")
            let comments = try #require(task["Description"]?.stringValue)
            for line in [
                "Document name: Series B Pitch Deck.pdf", "Account name: Acme Corp",
                "Document URL: https://docsend.example/documents/doc_2",
                "Internal link URL: https://docsend.example/links/\(link.linkID)",
                "External link URL: https://docsend.example/view/\(link.linkID)", "Visitors (0):",
            ] {
                #expect(comments.contains(line), "\(line) missing from \(comments)")
            }
        }
    }

    @Test("a burst of new visitors updates the link Task once, listing them all", arguments: WorldSetup.available)
    func visitorsBatched(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, visitorRefreshDelay: .seconds(1)) { harness in
            let event = Events.linkCreated(account: Events.acme)
            guard case .linkCreated(let link) = event.payload else { return }
            try await harness.runWorkers([.links, .visits], instances: 2) {
                try await harness.publish(event)
                try await eventually("the link Task") { await harness.tasks("DocSend_Link_Id__c", link.linkID).count == 1 }
                for index in 0..<12 {
                    try await harness.publish(
                        Events.started(email: "visitor\(index % 6)@example.com", name: "Visitor \(index % 6)", link: link.linkID))
                }
                try await eventually("the visitors listed") {
                    await harness.tasks("DocSend_Link_Id__c", link.linkID).first?["Description"]?.stringValue?
                        .contains("Visitors (6):") == true
                }
                try await Task.sleep(for: .seconds(2))
            }
            #expect(await harness.taskWrites("DocSend_Link_Id__c", link.linkID) == 2, "one create, then one update for the whole burst")
            let comments = try #require(await harness.tasks("DocSend_Link_Id__c", link.linkID).first?["Description"]?.stringValue)
            for index in 0..<6 { #expect(comments.contains("- Visitor \(index) <visitor\(index)@example.com>")) }
            #expect(try await harness.linkState(link.linkID)?.pending.isEmpty == true)
        }
    }

    @Test("document link sync turned off: no visitor refresh is written to the existing link Task",
          arguments: WorldSetup.available)
    func visitorRefreshHonoursToggle(setup: WorldSetup) async throws {
        // The refresh's delay leaves ample time to turn the sync off between its scheduling and its coming back.
        try await FleetHarness.with(setup, visitorRefreshDelay: .seconds(5)) { harness in
            let event = Events.linkCreated(account: Events.acme)
            guard case .linkCreated(let link) = event.payload else { return }
            try await harness.runWorkers([.links]) {
                try await harness.publish(event)
                try await eventually("the link Task") { await harness.tasks("DocSend_Link_Id__c", link.linkID).count == 1 }
                // A refresh on its way when the admin turns the sync off…
                try await harness.publish(Events.started(email: "first@example.com", link: link.linkID))
                try await eventually("the refresh scheduled") {
                    try await harness.linkState(link.linkID)?.scheduledRefresh != nil
                }
                try await harness.saveSettings(TeamSettings(syncDocumentLinks: false))
                try await eventually("the refresh come back") {
                    try await harness.linkState(link.linkID)?.scheduledRefresh == nil
                }
                // …and a visitor while it is off: gathered, no refresh scheduled.
                try await harness.publish(Events.started(email: "second@example.com", link: link.linkID))
                try await eventually("the second visitor gathered") {
                    try await harness.linkState(link.linkID)?.pending.count == 2
                }
                #expect(try await harness.linkState(link.linkID)?.scheduledRefresh == nil)
                #expect(await harness.taskWrites("DocSend_Link_Id__c", link.linkID) == 1, "only the creation")
                let comments = await harness.tasks("DocSend_Link_Id__c", link.linkID).first?["Description"]?.stringValue
                #expect(comments?.contains("Visitors (0):") == true)
                // On again: the next visitor's refresh lists everyone gathered meanwhile.
                try await harness.saveSettings(TeamSettings())
                try await harness.publish(Events.started(email: "third@example.com", link: link.linkID))
                try await eventually("the visitors listed") {
                    await harness.tasks("DocSend_Link_Id__c", link.linkID).first?["Description"]?.stringValue?
                        .contains("Visitors (3):") == true
                }
            }
            #expect(await harness.taskWrites("DocSend_Link_Id__c", link.linkID) == 2)
        }
    }

    @Test("a visitor seen before the link.created is listed when the Task is created", arguments: WorldSetup.available)
    func visitorBeforeLink(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let event = Events.linkCreated(account: Events.acme)
            guard case .linkCreated(let link) = event.payload else { return }
            try await harness.runWorkers([.links]) {
                try await harness.publish(Events.started(email: "early@example.com", link: link.linkID))
                try await eventually("the visitor kept") { try await harness.linkState(link.linkID)?.pending.count == 1 }
                try await harness.publish(event)
                try await eventually("the link Task") { await harness.tasks("DocSend_Link_Id__c", link.linkID).count == 1 }
            }
            let comments = await harness.tasks("DocSend_Link_Id__c", link.linkID).first?["Description"]?.stringValue
            #expect(comments?.contains("- early@example.com") == true)
        }
    }

    @Test("space_link.created: a Task with the space's properties", arguments: WorldSetup.available)
    func spaceLinkTask(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let account = AccountInfo(id: "acct_globex", name: "Globex", salesforceAccountID: SandboxSeed.Ids.globex)
            let event = Events.spaceLinkCreated(account: account)
            guard case .spaceLinkCreated(let spaceLink) = event.payload else { return }
            try await harness.runWorkers([.links]) {
                try await harness.publish(event)
                try await harness.publish(event)  // a duplicate delivery
                try await eventually("the space link Task") {
                    await harness.tasks("DocSend_Space_Link_Id__c", spaceLink.spaceLinkID).count == 1
                }
                try await Task.sleep(for: .milliseconds(500))
            }
            let tasks = await harness.tasks("DocSend_Space_Link_Id__c", spaceLink.spaceLinkID)
            #expect(tasks.count == 1)
            let comments = try #require(tasks.first?["Description"]?.stringValue)
            for line in [
                "Space name: Data Room", "Account name: Globex", "Space URL: https://docsend.example/spaces/space_1",
                "Internal space URL: https://docsend.example/space_links/\(spaceLink.spaceLinkID)",
            ] {
                #expect(comments.contains(line), "\(line) missing from \(comments)")
            }
            #expect(tasks.first?["WhatId"]?.stringValue == SandboxSeed.Ids.globex)
        }
    }

    @Test("no associated Account: not synced, with the reason recorded", arguments: WorldSetup.available)
    func noAccount(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let unknown = Events.linkCreated(account: AccountInfo(id: "acct_w", name: "Wayne Enterprises"))
            let none = Events.spaceLinkCreated(account: nil)
            guard case .linkCreated(let link) = unknown.payload, case .spaceLinkCreated(let space) = none.payload else { return }
            try await harness.runWorkers([.links]) {
                try await harness.publish(unknown)
                try await harness.publish(none)
                try await eventually("both recorded") {
                    let linkDone = try await harness.linkState(link.linkID)?.notSynced != nil
                    let spaceDone = try await harness.linkState(space.spaceLinkID, kind: .spaceLink)?.notSynced != nil
                    return linkDone && spaceDone
                }
            }
            #expect(try await harness.linkState(link.linkID)?.notSynced?.code == "no_salesforce_account")
            #expect(try await harness.linkState(space.spaceLinkID, kind: .spaceLink)?.notSynced?.code == "no_salesforce_account")
            #expect(await harness.tasks().isEmpty)
        }
    }

    @Test("document link and space link sync off are respected", arguments: WorldSetup.available)
    func togglesOff(setup: WorldSetup) async throws {
        let settings = TeamSettings(syncDocumentLinks: false, syncSpaceLinks: false)
        try await FleetHarness.with(setup, settings: settings) { harness in
            let link = Events.linkCreated(account: Events.acme)
            let space = Events.spaceLinkCreated(account: Events.acme)
            guard case .linkCreated(let l) = link.payload, case .spaceLinkCreated(let s) = space.payload else { return }
            try await harness.runWorkers([.links]) {
                try await harness.publish(link)
                try await harness.publish(space)
                try await eventually("both recorded") {
                    let linkDone = try await harness.linkState(l.linkID)?.notSynced != nil
                    let spaceDone = try await harness.linkState(s.spaceLinkID, kind: .spaceLink)?.notSynced != nil
                    return linkDone && spaceDone
                }
            }
            #expect(try await harness.linkState(l.linkID)?.notSynced?.code == "document_link_sync_disabled")
            #expect(try await harness.linkState(s.spaceLinkID, kind: .spaceLink)?.notSynced?.code == "space_link_sync_disabled")
            #expect(await harness.tasks().isEmpty)
        }
    }
}
