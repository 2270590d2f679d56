// How a worker uses the rules (all pure; the worker fetches, decides, writes, records):
//
// Visit worker, on `visit.started` / `visit.updated` / a re-sync tick:
//   1. Load the visit's `VisitSyncState`; `apply(_:policy:)` the event, or `tick(_:now:policy:)` the tick.
//   2. `.syncNow` / `.sync`: fetch people by the visitor email, Accounts by the account name, Users by the link
//      owner email; `VisitRouting.route(...)` → a Task (render with `TaskRendering.visitTask`, upsert on the
//      external id: all `fields` on the first write, `updateFields` afterwards), a Lead to create first
//      (`LeadDraft.fields`, then a logged Task on `.lead(newID)`), or a reason not to sync (record it).
//   3. After a successful write, `recordSync(_:at:policy:)` says whether to publish the next tick.
// Link worker, on `link.created` / `space_link.created`: `LinkRouting.route(...)` → `TaskRendering.linkTask` /
//   `spaceLinkTask`. On a burst of `visit.started` for a link: `LinkVisitorList.refreshed(with:linkID:)`, and
//   when `needsUpdate`, write the link Task's `updateFields` once.

/// The Task's `WhoId` and `WhatId`.
///
/// Rules (Salesforce): `WhoId` is a Contact or a Lead; `WhatId` is set only when `WhoId` is not a Lead
/// (a Task on a Lead cannot be related to anything); an account-only Task has `WhatId` alone.
public struct TaskRelations: Sendable, Hashable, Codable {
    /// `WhoId`: a Contact or Lead.
    public var whoID: String?
    /// `WhatId`: an Account.
    public var whatID: String?

    private init(whoID: String?, whatID: String?) {
        self.whoID = whoID
        self.whatID = whatID
    }

    /// On a Contact, related to `account` (``Matching/contactAccount(_:visitAccount:)`` chooses it).
    public static func contact(_ id: String, account: String?) -> TaskRelations {
        TaskRelations(whoID: id, whatID: account)
    }

    /// On a Lead: `WhatId` stays empty.
    public static func lead(_ id: String) -> TaskRelations { TaskRelations(whoID: id, whatID: nil) }

    /// On an Account only.
    public static func account(_ id: String) -> TaskRelations { TaskRelations(whoID: nil, whatID: id) }

    /// On nothing (an open follow-up Task for a visit that matched nothing at all).
    public static let unrelated = TaskRelations(whoID: nil, whatID: nil)
}

/// Whether a Task is logged (closed) or left open for follow-up.
public enum TaskDisposition: String, Sendable, Hashable, Codable {
    /// A matched visit, a link: a closed status.
    case logged
    /// An unmatched visit, option *Create open tasks for unmatched records*: the org's default open status.
    case followUp = "follow_up"
}

/// Why an activity is not synced: recorded with the activity, shown to admins.
public enum NotSyncedReason: Sendable, Hashable, CustomStringConvertible {
    /// The team switched this sync off.
    case syncDisabled(ActivityKind)
    /// The visitor gave no email and the DocSend account is not in Salesforce.
    case noEmailAndNoAccount
    /// The visitor's email is no Lead or Contact and the DocSend account is not in Salesforce.
    case unmatchedEmailAndNoAccount
    /// Nothing matched, and the account name fits several Salesforce Accounts.
    case ambiguousAccountName(name: String, count: Int)
    /// Nothing matched; the lead option is on but no Lead can be made from this visitor.
    case leadNotCreatable(LeadDraft.Failure)
    /// Nothing matched; the open-task option is on but neither the link owner nor the admin who connected the org
    /// is a Salesforce User to assign the Task to.
    case noFollowUpOwner
    /// A link on no DocSend account, or on one not associated with a Salesforce Account.
    case noSalesforceAccount
    /// A sales rep deleted the Task in Salesforce and the team leaves deleted Tasks deleted
    /// (``DeletedTaskPolicy/leave``).
    case taskDeletedInSalesforce

    /// A stable snake_case code for metrics and storage, e.g. `unmatched_email_and_no_account`.
    public var code: String {
        switch self {
        case .syncDisabled(let kind): "\(kind.rawValue)_sync_disabled"
        case .noEmailAndNoAccount: "no_email_and_no_account"
        case .unmatchedEmailAndNoAccount: "unmatched_email_and_no_account"
        case .ambiguousAccountName: "ambiguous_account_name"
        case .leadNotCreatable: "lead_not_creatable"
        case .noFollowUpOwner: "no_follow_up_owner"
        case .noSalesforceAccount: "no_salesforce_account"
        case .taskDeletedInSalesforce: "task_deleted_in_salesforce"
        }
    }

    /// A sentence for admins, e.g. `the visitor's email matches no Lead or Contact, and the account is not in
    /// Salesforce`.
    public var description: String {
        switch self {
        case .syncDisabled(let kind): "\(kind) sync is turned off in the team's settings"
        case .noEmailAndNoAccount:
            "the visitor gave no email, and the DocSend account is not in Salesforce"
        case .unmatchedEmailAndNoAccount:
            "the visitor's email matches no Lead or Contact, and the DocSend account is not in Salesforce"
        case .ambiguousAccountName(let name, let count):
            "nothing matched, and \(count) Salesforce Accounts are named \(quoted(name)); link the account in DocSend"
        case .leadNotCreatable(let failure): "nothing matched, and no Lead could be created: \(failure)"
        case .noFollowUpOwner:
            "nothing matched, and neither the link owner nor the admin who connected Salesforce is a Salesforce User "
                + "to assign a follow-up task to"
        case .noSalesforceAccount: "the DocSend account is not associated with a Salesforce Account"
        case .taskDeletedInSalesforce:
            "a sales rep deleted the Task in Salesforce, and the team's settings leave deleted Tasks deleted"
        }
    }
}

/// What a visit worker does with a visit.
public enum VisitRoute: Sendable, Hashable {
    /// A Task on these records: closed (``TaskDisposition/logged``) or open (``TaskDisposition/followUp``),
    /// owned by `ownerID` (`nil`: the integration user).
    case task(TaskRelations, TaskDisposition, ownerID: String?)
    /// Create this Lead first, then a logged Task on it (``TaskRelations/lead(_:)`` with the new id).
    case createLead(LeadDraft, ownerID: String?)
    /// Nothing to write.
    case notSynced(NotSyncedReason)
}

/// The visit rules of design §1 as one decision over what a worker fetched.
public enum VisitRouting {
    /// Where a visit goes, in this order of precedence (each step applies only when the ones above did not):
    ///
    /// 1. Visit sync off → not synced.
    /// 2. **Contact or Lead match** (``Matching/person(forEmail:among:)``) → logged Task on it (a Contact's Task
    ///    is related to the Contact's own Account unless the DocSend account is explicitly linked to one:
    ///    ``Matching/contactAccount(_:visitAccount:)``).
    /// 3. **Unmatched email, option *Create new leads* on** → create the Lead, logged Task on it. This comes
    ///    before the account fallback: the option is named for *unmatched emails*, and an email is unmatched
    ///    whether or not its company is in Salesforce; the new Lead then carries the person, which an
    ///    Account-only Task cannot. A visitor no Lead can be made from (too long an email) falls through.
    /// 4. **Account match** (linked id, else exactly one Account of that name) → Task on the Account: open for
    ///    follow-up when option *Create open tasks for unmatched records* is on and there is a follow-up owner
    ///    (the visit matched no Lead or Contact), logged otherwise.
    /// 5. **Option *Create open tasks* on** and there is a follow-up owner → open Task on no record, assigned to
    ///    them.
    /// 6. Otherwise → not synced, with the most actionable reason (lead not creatable, then no follow-up owner,
    ///    then ambiguous account name, then unmatched/no email).
    ///
    /// The owner of every Task is the link owner's Salesforce User when there is one. The **follow-up owner** is
    /// the link owner's User, else `fallbackOwnerID`, the User of the admin who connected the org (DocSend tells
    /// them the Task is assigned to them); a logged Task never takes the fallback (`nil` leaves the integration
    /// user).
    public static func route(
        _ visit: VisitStarted, settings: TeamSettings, people: [SalesforcePerson], accounts: [SalesforceAccount],
        users: [SalesforceUser], fallbackOwnerID: String? = nil
    ) -> VisitRoute {
        guard settings.syncVisits else { return .notSynced(.syncDisabled(.visit)) }
        let owner = Matching.user(forEmail: visit.linkOwnerEmail, among: users)?.id
        let account = Matching.account(for: visit.account, among: accounts)

        if let person = Matching.person(forEmail: visit.visitor.email, among: people) {
            let relations: TaskRelations =
                switch person.kind {
                case .contact: .contact(person.id, account: Matching.contactAccount(person, visitAccount: account))
                case .lead: .lead(person.id)
                }
            return .task(relations, .logged, ownerID: owner)
        }

        var leadFailure: LeadDraft.Failure?
        let hasEmail = Matching.normalizedEmail(visit.visitor.email) != nil
        if settings.createLeadsForUnmatchedEmails && hasEmail {
            switch LeadDraft.make(visitor: visit.visitor, accountName: visit.account?.name) {
            case .success(let draft): return .createLead(draft, ownerID: owner)
            case .failure(let failure): leadFailure = failure
            }
        }

        let fallback = fallbackOwnerID.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        let followUpOwner = settings.createOpenTasksForUnmatchedRecords ? owner ?? fallback : nil
        if let accountID = account.accountID {
            if let followUpOwner { return .task(.account(accountID), .followUp, ownerID: followUpOwner) }
            return .task(.account(accountID), .logged, ownerID: owner)
        }
        if let followUpOwner { return .task(.unrelated, .followUp, ownerID: followUpOwner) }

        if let leadFailure { return .notSynced(.leadNotCreatable(leadFailure)) }
        if settings.createOpenTasksForUnmatchedRecords { return .notSynced(.noFollowUpOwner) }
        if case .ambiguousName(let name, let count) = account {
            return .notSynced(.ambiguousAccountName(name: name, count: count))
        }
        return .notSynced(hasEmail ? .unmatchedEmailAndNoAccount : .noEmailAndNoAccount)
    }
}

/// What a link worker does with a document link or space link creation.
public enum LinkRoute: Sendable, Hashable {
    /// A logged Task on this Account, owned by `ownerID` (the creator's Salesforce User, when there is one).
    case task(accountID: String, ownerID: String?)
    /// Nothing to write.
    case notSynced(NotSyncedReason)
}

/// The link rules of design §1 items 2 and 3.
public enum LinkRouting {
    /// Where a document link's Task goes: on the Salesforce Account the link's DocSend account is associated
    /// with (the same resolution as visits: linked id, else exactly one Account of that name), when document
    /// link sync is on.
    public static func route(
        _ link: LinkCreated, settings: TeamSettings, accounts: [SalesforceAccount], users: [SalesforceUser]
    ) -> LinkRoute {
        route(.documentLink, account: link.account, creator: link.creatorEmail, settings, accounts, users)
    }

    /// Why a document link's existing Task may not have its visitors list written now, or `nil` when it may.
    ///
    /// Rule: the document link sync's toggle governs every write to a link Task, not only its creation. While it
    /// is off, visitors are still gathered (no Salesforce call) but no refresh is scheduled or written; once it is
    /// on again, the next visitor's refresh lists everyone gathered meanwhile.
    public static func visitorRefresh(settings: TeamSettings) -> NotSyncedReason? {
        settings.isSyncEnabled(.documentLink) ? nil : .syncDisabled(.documentLink)
    }

    /// Where a space link's Task goes: as for document links, when space link sync is on.
    public static func route(
        _ spaceLink: SpaceLinkCreated, settings: TeamSettings, accounts: [SalesforceAccount],
        users: [SalesforceUser]
    ) -> LinkRoute {
        route(.spaceLink, account: spaceLink.account, creator: spaceLink.creatorEmail, settings, accounts, users)
    }

    private static func route(
        _ kind: ActivityKind, account: AccountInfo?, creator: String, _ settings: TeamSettings,
        _ accounts: [SalesforceAccount], _ users: [SalesforceUser]
    ) -> LinkRoute {
        guard settings.isSyncEnabled(kind) else { return .notSynced(.syncDisabled(kind)) }
        switch Matching.account(for: account, among: accounts) {
        case .linked(let id), .byName(let id):
            return .task(accountID: id, ownerID: Matching.user(forEmail: creator, among: users)?.id)
        case .ambiguousName(let name, let count):
            return .notSynced(.ambiguousAccountName(name: name, count: count))
        case .none:
            return .notSynced(.noSalesforceAccount)
        }
    }
}
