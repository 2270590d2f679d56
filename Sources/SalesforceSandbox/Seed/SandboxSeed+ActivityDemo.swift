import Foundation

extension SandboxSeed {
    /// Names of the built-in seeds, for `salesforce-sandbox --seed NAME`: `demo` (``demo``) and
    /// `activity-demo` (``activityDemo``).
    public static let builtInNames = ["demo", "activity-demo"]

    /// The built-in seed called `name` (see ``builtInNames``), or nil.
    public static func builtIn(named name: String) -> SandboxSeed? {
        switch name {
        case "demo": .demo
        case "activity-demo": .activityDemo
        default: nil
        }
    }

    /// Names of the activity demo seed (``activityDemo``). OAuth values are the demo seed's (``Demo``), so a
    /// configuration made for one works with the other.
    public enum ActivityDemo {
        /// Org id of the activity demo seed.
        public static let orgId = SalesforceID.normalize("00DDm0000ActvDm") ?? ""
        /// The first user (integration admin): owns seeded records, runs `client_credentials`, holds the tokens.
        public static let username = Demo.username
        /// Consumer key (as ``Demo/clientId``).
        public static let clientId = Demo.clientId
        /// Consumer secret (as ``Demo/clientSecret``).
        public static let clientSecret = Demo.clientSecret
        /// A refresh token of the client, no rotation (as ``Demo/refreshToken``).
        public static let refreshToken = Demo.refreshToken
        /// An access token valid from the start, admin user (as ``Demo/accessToken``).
        public static let accessToken = Demo.accessToken
        /// A registered callback of the client (as ``Demo/redirectURI``; any callback is accepted too).
        public static let redirectURI = Demo.redirectURI
        /// `DailyApiRequests.Max`: generous, so a long local run does not run out.
        public static let dailyApiRequests = 1_000_000

        /// Users (active) named by the simulator teams' member emails; the Username is the email.
        public static let memberUsernames = [
            "sam.seller@docsend-demo.example", "alex.owner@docsend-demo.example", "nina.sales@northwind.example",
        ]

        /// Account "Acme Corporation", linked from DocSend (team_demo) by this id.
        public static let acmeAccountId = SalesforceID.normalize("001Dm0000AcmeCoIQI") ?? ""
        /// Account "Globex", linked from DocSend (team_demo) by this id.
        public static let globexAccountId = SalesforceID.normalize("001Dm0000GlobexIQA") ?? ""
        /// Account "Contoso", linked from DocSend (team_northwind) by this id.
        public static let contosoAccountId = SalesforceID.normalize("001Dm0000ContosIQA") ?? ""
        /// Account "Initech", found by exact name (the only Account with that name).
        public static let initechAccountId = SalesforceID.normalize("001Dm0000Initch") ?? ""
        /// Account "Hooli", found by exact name (the only Account with that name).
        public static let hooliAccountId = SalesforceID.normalize("001Dm00000Hooli") ?? ""
        /// Account "Fabrikam", found by exact name (the only Account with that name).
        public static let fabrikamAccountId = SalesforceID.normalize("001Dm0000Fabrik") ?? ""
    }

    /// One org for both teams of the activity simulator (`ActivitySimulator.Team.demo` and
    /// `.northwind` in SyncCore): active Users for the member emails, a Contact per known contact email (on
    /// its company's Account), an open Lead per known lead email, the linked Accounts under their exact ids,
    /// one Account per name-only account the simulator says is in Salesforce (none for the others), one
    /// converted Lead (Grace Hopper, converted into her Contact), Task custom fields for the DocSend ids and a
    /// few mappable values, the ``Demo`` OAuth client and tokens, and a daily allocation of 1,000,000 calls.
    /// `SalesforceSandboxTests` checks it against the simulator. See ``ActivityDemo``.
    public static var activityDemo: SandboxSeed { (try? decode(Data(activityDemoJSON.utf8))) ?? SandboxSeed() }

    /// The activity demo seed as JSON.
    public static let activityDemoJSON = #"""
        {
          "orgId": "00DDm0000ActvDm",
          "users": [
            {"Id": "005Dm0000AdminU", "Username": "admin@sandbox.example", "FirstName": "Ada", "LastName": "Admin", "Email": "admin@sandbox.example"},
            {"Id": "005Dm0000SamSlr", "Username": "sam.seller@docsend-demo.example", "FirstName": "Sam", "LastName": "Seller", "Email": "sam.seller@docsend-demo.example", "IsActive": true},
            {"Id": "005Dm0000AlexOw", "Username": "alex.owner@docsend-demo.example", "FirstName": "Alex", "LastName": "Owner", "Email": "alex.owner@docsend-demo.example", "IsActive": true},
            {"Id": "005Dm0000NinaSl", "Username": "nina.sales@northwind.example", "FirstName": "Nina", "LastName": "Sales", "Email": "nina.sales@northwind.example", "IsActive": true}
          ],
          "records": {
            "Account": [
              {"_ref": "acme", "Id": "001Dm0000AcmeCoIQI", "Name": "Acme Corporation", "Website": "https://acme.example", "Industry": "Manufacturing"},
              {"_ref": "globex", "Id": "001Dm0000GlobexIQA", "Name": "Globex", "Website": "https://globex.example", "Industry": "Technology"},
              {"_ref": "contoso", "Id": "001Dm0000ContosIQA", "Name": "Contoso", "Website": "https://contoso.example", "Industry": "Retail"},
              {"_ref": "initech", "Id": "001Dm0000Initch", "Name": "Initech", "Website": "https://initech.example", "Industry": "Technology"},
              {"_ref": "hooli", "Id": "001Dm00000Hooli", "Name": "Hooli", "Website": "https://hooli.example", "Industry": "Technology"},
              {"_ref": "fabrikam", "Id": "001Dm0000Fabrik", "Name": "Fabrikam", "Website": "https://fabrikam.example", "Industry": "Manufacturing"}
            ],
            "Contact": [
              {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada.lovelace@acme.example", "Title": "Head of Analytics", "AccountId": "@acme"},
              {"_ref": "grace", "FirstName": "Grace", "LastName": "Hopper", "Email": "grace.hopper@globex.example", "Title": "VP Engineering", "AccountId": "@globex"},
              {"FirstName": "Alan", "LastName": "Turing", "Email": "alan.turing@initech.example", "Title": "Chief Scientist", "AccountId": "@initech"},
              {"FirstName": "Katherine", "LastName": "Johnson", "Email": "katherine.johnson@acme.example", "Title": "Director of Operations", "AccountId": "@acme"},
              {"FirstName": "Edsger", "LastName": "Dijkstra", "Email": "edsger.dijkstra@globex.example", "Title": "Architect", "AccountId": "@globex"},
              {"FirstName": "John", "LastName": "McCarthy", "Email": "john.mccarthy@contoso.example", "Title": "CIO", "AccountId": "@contoso"},
              {"FirstName": "Frances", "LastName": "Allen", "Email": "frances.allen@fabrikam.example", "Title": "Procurement Lead", "AccountId": "@fabrikam"}
            ],
            "Lead": [
              {"FirstName": "Margaret", "LastName": "Hamilton", "Company": "Hooli", "Email": "margaret.hamilton@hooli.example", "Status": "Working - Contacted", "LeadSource": "Web"},
              {"FirstName": "Dennis", "LastName": "Ritchie", "Company": "Pied Piper", "Email": "dennis.ritchie@piedpiper.example", "Status": "Open - Not Contacted", "LeadSource": "Partner Referral"},
              {"FirstName": "Barbara", "LastName": "Liskov", "Company": "Hooli", "Email": "barbara.liskov@hooli.example", "Status": "Open - Not Contacted", "LeadSource": "Web"},
              {"FirstName": "Ken", "LastName": "Thompson", "Company": "Tailspin Toys", "Email": "ken.thompson@tailspin.example", "Status": "Open - Not Contacted", "LeadSource": "Phone Inquiry"},
              {"FirstName": "Grace", "LastName": "Hopper", "Company": "Globex", "Email": "grace.hopper@globex.example",
               "IsConverted": true, "Status": "Closed - Converted", "ConvertedContactId": "@grace", "ConvertedAccountId": "@globex", "ConvertedDate": "2026-10-01"}
            ]
          },
          "taskStatuses": [
            {"apiName": "Not Started", "isDefault": true, "isClosed": false},
            {"apiName": "In Progress", "isDefault": false, "isClosed": false},
            {"apiName": "Completed", "isDefault": false, "isClosed": true},
            {"apiName": "Waiting on someone else", "isDefault": false, "isClosed": false},
            {"apiName": "Deferred", "isDefault": false, "isClosed": false}
          ],
          "customTaskFields": [
            {"name": "DocSend_Visit_Id__c", "type": "string", "length": 255, "externalId": true, "unique": true, "caseSensitive": true},
            {"name": "DocSend_Link_Id__c", "type": "string", "length": 255, "externalId": true, "unique": true, "caseSensitive": true},
            {"name": "DocSend_Space_Link_Id__c", "type": "string", "length": 255, "externalId": true, "unique": true, "caseSensitive": true},
            {"name": "DocSend_Duration__c", "type": "double", "label": "DocSend Duration (s)"},
            {"name": "DocSend_Percent_Viewed__c", "type": "double", "label": "DocSend Percent Viewed"},
            {"name": "DocSend_Document__c", "type": "string", "length": 255, "label": "DocSend Document"},
            {"name": "DocSend_Analytics_URL__c", "type": "url", "length": 255, "label": "DocSend Analytics URL"}
          ],
          "oauthClients": [
            {"clientId": "sandbox-client-id", "clientSecret": "sandbox-client-secret",
             "redirectURIs": ["http://localhost:8080/oauth/callback", "*"], "rotateRefreshTokens": false,
             "clientCredentialsUsername": "admin@sandbox.example", "refreshTokens": ["sandbox-refresh-token"]}
          ],
          "accessTokens": [{"token": "sandbox-access-token", "username": "admin@sandbox.example"}],
          "limits": {"dailyApiRequests": 1000000, "used": 0}
        }
        """#
}
