import Foundation

extension ActivitySimulator {
    /// What the simulated DocSend activity looks like. The defaults describe a small demo org (team
    /// `team_demo`) plus a second team; pass your own ``Team``s to match the Contacts, Leads and Accounts
    /// seeded in your Salesforce sandbox.
    ///
    /// Ratios are probabilities in 0…1, drawn independently per decision.
    public struct Configuration: Sendable {
        /// Timestamp of the stream's beginning (the first event comes a little after).
        public var start: Date
        /// Average event rate (Poisson arrivals), events per second of simulated time.
        public var eventsPerSecond: Double
        /// The DocSend teams producing activity.
        public var teams: [Team]
        /// Base of every generated DocSend URL.
        public var docSendBaseURL: String

        /// Of the new activity (when no visit update is due), the share that is a `link.created`.
        public var linkCreationRatio: Double
        /// Of the new activity, the share that is a `space_link.created`; the rest are new visits.
        public var spaceLinkCreationRatio: Double
        /// A visit's visitor is one who visited the same team before.
        public var repeatVisitorRatio: Double
        /// A new visitor is one of the team's ``Team/knownContactEmails`` or ``Team/knownLeadEmails``.
        public var knownVisitorRatio: Double
        /// A new visitor gave no email.
        public var missingEmailRatio: Double
        /// A known visitor's email is typed with different letter case (matching must be case-insensitive).
        public var emailCaseVariationRatio: Double
        /// A link or space link has no DocSend account.
        public var noAccountRatio: Double
        /// A visit stops updating without ever sending `ended: true`.
        public var abandonedVisitRatio: Double
        /// A gap between two updates of a visit is long (4 to 14 minutes) rather than 10 to 90 seconds.
        public var activityGapRatio: Double
        /// Longest visit; durations are log-uniform between 3 seconds and this.
        public var maximumVisitDuration: TimeInterval
        /// An event is delivered a second time, identical (same id), a few events later.
        public var duplicateRatio: Double
        /// An event is delivered late, after 1 to 30 later events (so a `visit.updated` can precede its
        /// `visit.started`, as after a redelivery). Its timestamps are unchanged.
        public var lateDeliveryRatio: Double

        /// Creates a configuration; every parameter has a demo default.
        public init(
            start: Date = Date(timeIntervalSince1970: 1_795_514_400),  // 2026-11-24T10:00:00Z
            eventsPerSecond: Double = 1,
            teams: [Team] = [.demo, .northwind],
            docSendBaseURL: String = "https://docsend.com",
            linkCreationRatio: Double = 0.08,
            spaceLinkCreationRatio: Double = 0.04,
            repeatVisitorRatio: Double = 0.3,
            knownVisitorRatio: Double = 0.5,
            missingEmailRatio: Double = 0.1,
            emailCaseVariationRatio: Double = 0.1,
            noAccountRatio: Double = 0.2,
            abandonedVisitRatio: Double = 0.15,
            activityGapRatio: Double = 0.08,
            maximumVisitDuration: TimeInterval = 40 * 60,
            duplicateRatio: Double = 0,
            lateDeliveryRatio: Double = 0
        ) {
            self.start = start
            self.eventsPerSecond = eventsPerSecond
            self.teams = teams
            self.docSendBaseURL = docSendBaseURL
            self.linkCreationRatio = linkCreationRatio
            self.spaceLinkCreationRatio = spaceLinkCreationRatio
            self.repeatVisitorRatio = repeatVisitorRatio
            self.knownVisitorRatio = knownVisitorRatio
            self.missingEmailRatio = missingEmailRatio
            self.emailCaseVariationRatio = emailCaseVariationRatio
            self.noAccountRatio = noAccountRatio
            self.abandonedVisitRatio = abandonedVisitRatio
            self.activityGapRatio = activityGapRatio
            self.maximumVisitDuration = maximumVisitDuration
            self.duplicateRatio = duplicateRatio
            self.lateDeliveryRatio = lateDeliveryRatio
        }
    }

    /// A DocSend team and what its Salesforce org knows.
    public struct Team: Sendable, Hashable {
        /// `team_id`
        public var id: String
        /// Relative share of the activity.
        public var weight: Double
        /// DocSend users of the team: link owners and creators (Salesforce Users with these emails own open
        /// Tasks).
        public var memberEmails: [String]
        /// Emails of Contacts in the team's Salesforce org.
        public var knownContactEmails: [String]
        /// Emails of (unconverted) Leads in the team's Salesforce org.
        public var knownLeadEmails: [String]
        /// DocSend accounts links are shared with; see ``Account``.
        public var accounts: [Account]
        /// Names of the team's documents.
        public var documentNames: [String]
        /// Names of the team's spaces.
        public var spaceNames: [String]

        /// Creates a team.
        public init(
            id: String, weight: Double = 1, memberEmails: [String], knownContactEmails: [String],
            knownLeadEmails: [String], accounts: [Account], documentNames: [String] = Team.defaultDocumentNames,
            spaceNames: [String] = Team.defaultSpaceNames
        ) {
            self.id = id
            self.weight = weight
            self.memberEmails = memberEmails
            self.knownContactEmails = knownContactEmails
            self.knownLeadEmails = knownLeadEmails
            self.accounts = accounts
            self.documentNames = documentNames
            self.spaceNames = spaceNames
        }

        /// Document names used when a team names none.
        public static let defaultDocumentNames = [
            "Q4 Pricing Proposal.pdf", "Series B Pitch Deck.pdf", "Security Whitepaper.pdf", "Product Overview.pdf",
            "Master Services Agreement.pdf", "Case Study – Logistics.pdf", "Implementation Plan.pdf",
            "Quarterly Business Review.pdf",
        ]

        /// Space names used when a team names none.
        public static let defaultSpaceNames = ["Data Room", "Onboarding Kit", "Partner Portal", "Due Diligence"]

        /// The demo team, `team_demo`. Its Salesforce side is the sandbox seed `activity-demo`
        /// (`SandboxSeed.activityDemo`, `salesforce-sandbox --seed activity-demo`), which holds the records of
        /// both default teams in one org; a test in `SalesforceSandboxTests` fails when the two drift apart.
        public static let demo = Team(
            id: "team_demo", weight: 3,
            memberEmails: ["sam.seller@docsend-demo.example", "alex.owner@docsend-demo.example"],
            knownContactEmails: [
                "ada.lovelace@acme.example", "grace.hopper@globex.example", "alan.turing@initech.example",
                "katherine.johnson@acme.example", "edsger.dijkstra@globex.example",
            ],
            knownLeadEmails: [
                "margaret.hamilton@hooli.example", "dennis.ritchie@piedpiper.example", "barbara.liskov@hooli.example",
            ],
            accounts: [
                Account(name: "Acme Corporation", salesforceAccountID: "001Dm0000AcmeCoIQI"),
                Account(name: "Globex", salesforceAccountID: "001Dm0000GlobexIQA"),
                Account(name: "Initech", isInSalesforce: true),  // one Account with exactly this name exists in the org
                Account(name: "Hooli", isInSalesforce: true),  // likewise
                Account(name: "Wayne Enterprises"),  // not in Salesforce
            ])

        /// A second, smaller team, `team_northwind` (its Salesforce records are in the same sandbox seed as
        /// ``demo``'s).
        public static let northwind = Team(
            id: "team_northwind", weight: 1,
            memberEmails: ["nina.sales@northwind.example"],
            knownContactEmails: ["john.mccarthy@contoso.example", "frances.allen@fabrikam.example"],
            knownLeadEmails: ["ken.thompson@tailspin.example"],
            accounts: [
                Account(name: "Contoso", salesforceAccountID: "001Dm0000ContosIQA"),
                Account(name: "Fabrikam", isInSalesforce: true),  // one Account with exactly this name exists in the org
                Account(name: "Tailspin Toys"),  // not in Salesforce (its people are Leads so far)
            ])
    }

    /// A DocSend account (a company links are shared with).
    public struct Account: Sendable, Hashable {
        /// `account.name`; matched by exact name when there is no ``salesforceAccountID``.
        public var name: String
        /// `account.salesforce_account_id`, when the DocSend account is linked to a Salesforce Account (an
        /// 18-character Salesforce id of an Account in the team's org).
        public var salesforceAccountID: String?
        /// For an account without ``salesforceAccountID``: exactly one Account with exactly this ``name``
        /// exists in the team's Salesforce org, so matching by name finds it. `false`: no Account has this
        /// name. Not used to generate events; it documents the org the team expects (and lets a test check a
        /// seeded sandbox org against it). Linked accounts are in Salesforce by their id whatever this says.
        public var isInSalesforce: Bool

        /// Creates an account.
        public init(name: String, salesforceAccountID: String? = nil, isInSalesforce: Bool = false) {
            self.name = name
            self.salesforceAccountID = salesforceAccountID
            self.isInSalesforce = isInSalesforce
        }
    }
}
