import Foundation

/// A Contact or Lead a worker fetched by the visitor's email: the fields matching needs.
public struct SalesforcePerson: Sendable, Hashable, Codable {
    /// Contact or Lead.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A Contact (`003…`).
        case contact = "Contact"
        /// A Lead (`00Q…`).
        case lead = "Lead"
    }

    /// Contact or Lead.
    public var kind: Kind
    /// `Id`
    public var id: String
    /// `Email`
    public var email: String?
    /// `IsConverted` (Leads; always false for Contacts).
    public var isConverted: Bool
    /// `LastModifiedDate`
    public var lastModifiedDate: Date
    /// `AccountId` (Contacts).
    public var accountID: String?

    /// Creates a candidate.
    public init(
        kind: Kind, id: String, email: String?, isConverted: Bool = false, lastModifiedDate: Date,
        accountID: String? = nil
    ) {
        self.kind = kind
        self.id = id
        self.email = email
        self.isConverted = isConverted
        self.lastModifiedDate = lastModifiedDate
        self.accountID = accountID
    }
}

/// An Account a worker fetched by the DocSend account's name.
public struct SalesforceAccount: Sendable, Hashable, Codable {
    /// `Id`
    public var id: String
    /// `Name`
    public var name: String
    /// `LastModifiedDate`
    public var lastModifiedDate: Date

    /// Creates a candidate.
    public init(id: String, name: String, lastModifiedDate: Date) {
        self.id = id
        self.name = name
        self.lastModifiedDate = lastModifiedDate
    }
}

/// A User a worker fetched by a DocSend user's email (link owner, link creator).
public struct SalesforceUser: Sendable, Hashable, Codable {
    /// `Id`
    public var id: String
    /// `Email`
    public var email: String
    /// `IsActive`: inactive users cannot own Tasks.
    public var isActive: Bool

    /// Creates a candidate.
    public init(id: String, email: String, isActive: Bool = true) {
        self.id = id
        self.email = email
        self.isActive = isActive
    }
}

/// Where a DocSend account lands in Salesforce.
public enum AccountResolution: Sendable, Hashable {
    /// The event's `account.salesforce_account_id`.
    case linked(id: String)
    /// The one Account whose name is exactly the DocSend account's name.
    case byName(id: String)
    /// Several Accounts have exactly that name: none is chosen (see ``Matching/account(for:among:)``).
    case ambiguousName(name: String, count: Int)
    /// No account on the event, or no Account of that name.
    case none

    /// The Account id, when one was resolved.
    public var accountID: String? {
        switch self {
        case .linked(let id), .byName(let id): id
        case .ambiguousName, .none: nil
        }
    }
}

/// The matching rules (design §1): which Salesforce record a visitor, an account or a DocSend user is.
///
/// Workers fetch candidates with SOQL (whose `=` is case-insensitive and may return near misses, e.g. with
/// trailing spaces or other Unicode case foldings); these functions decide among them.
public enum Matching {
    /// The email as matching uses it: surrounding whitespace trimmed; `nil` when nothing is left.
    public static func normalizedEmail(_ email: String?) -> String? {
        guard let trimmed = email?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else {
            return nil
        }
        return trimmed
    }

    /// Whether two emails are the same address: exact equality ignoring case (no other folding: `ß` is not
    /// `ss`, `+tags` and dots count), surrounding whitespace ignored.
    public static func emailsMatch(_ lhs: String?, _ rhs: String?) -> Bool {
        guard let lhs = normalizedEmail(lhs), let rhs = normalizedEmail(rhs) else { return false }
        return lhs.lowercased() == rhs.lowercased()
    }

    /// The Contact or Lead a visitor email designates, or `nil`.
    ///
    /// Rules: no email, no match; only exact case-insensitive email equality counts; converted Leads are
    /// excluded; a Contact wins over any Lead; among several of the same kind the most recently modified wins
    /// (ties broken by the smaller id, so the choice is the same on every worker).
    public static func person(forEmail email: String?, among candidates: [SalesforcePerson]) -> SalesforcePerson? {
        guard normalizedEmail(email) != nil else { return nil }
        let eligible = candidates.filter { candidate in
            emailsMatch(candidate.email, email) && !(candidate.kind == .lead && candidate.isConverted)
        }
        return mostRecent(eligible.filter { $0.kind == .contact }) ?? mostRecent(eligible.filter { $0.kind == .lead })
    }

    private static func mostRecent(_ people: [SalesforcePerson]) -> SalesforcePerson? {
        people.min { lhs, rhs in
            lhs.lastModifiedDate != rhs.lastModifiedDate
                ? lhs.lastModifiedDate > rhs.lastModifiedDate : lhs.id < rhs.id
        }
    }

    /// The Salesforce Account a DocSend account designates.
    ///
    /// Rules: the linked `salesforce_account_id` first; else the Account whose `Name` equals the account name
    /// exactly (case and spacing count: SOQL's case-insensitive `=` returns near misses, which are dropped);
    /// an empty name matches nothing. **Several Accounts with exactly that name are ambiguous and none is
    /// used**: a visit filed on the wrong company misleads the sales team more than a visit not filed, and
    /// "most recently modified" is not a property of the company. The worker records the ambiguity (the
    /// admin can fix it by linking the account in DocSend).
    public static func account(for account: AccountInfo?, among candidates: [SalesforceAccount])
        -> AccountResolution
    {
        guard let account else { return .none }
        if let linked = account.salesforceAccountID?.trimmingCharacters(in: .whitespaces), !linked.isEmpty {
            return .linked(id: linked)
        }
        guard !account.name.isEmpty else { return .none }
        let exact = candidates.filter { $0.name == account.name }
        let ids = Set(exact.map(\.id))
        switch ids.count {
        case 0: return .none
        case 1: return .byName(id: exact[0].id)
        default: return .ambiguousName(name: account.name, count: ids.count)
        }
    }

    /// The Account a Task on `contact` is related to (`WhatId`).
    ///
    /// Rule: **an explicit link wins** (the event's `salesforce_account_id`, or the link an admin stored for the
    /// DocSend account): the team said where this DocSend account's activity belongs. Otherwise the Contact's own
    /// Account: the DocSend account's name is only a guess at the company, the Contact's Account is what the org
    /// says. A Contact with no Account (a private Contact) is related to the Account of that name, if one was
    /// found; else nothing.
    public static func contactAccount(_ contact: SalesforcePerson, visitAccount: AccountResolution) -> String? {
        if case .linked(let id) = visitAccount { return id }
        if let own = contact.accountID?.trimmingCharacters(in: .whitespaces), !own.isEmpty { return own }
        return visitAccount.accountID
    }

    /// The active Salesforce User a DocSend user's email designates, or `nil`.
    ///
    /// Exact case-insensitive email equality; inactive users are excluded (they cannot own Tasks); several
    /// matches: the smallest id, so every worker picks the same one.
    public static func user(forEmail email: String?, among candidates: [SalesforceUser]) -> SalesforceUser? {
        candidates.filter { $0.isActive && emailsMatch($0.email, email) }.min { $0.id < $1.id }
    }
}
