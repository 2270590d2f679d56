import ArgumentParser
import Fleet
import Testing

@testable import DocsendSyncCLI

/// Every subcommand parses its argv as the binary does: flags land in the fields and configuration keys the
/// commands read.
@Suite("docsend-sync: parsing")
struct ParsingTests {
    @Test("worker takes one role of the topology, or all of them", arguments: [
        ("visits", [SyncTopology.Role.visits]), ("links", [.links]), ("leads", [.leads]),
        ("all", SyncTopology.Role.allCases),
    ])
    func workerRoles(argument: String, roles: [SyncTopology.Role]) throws {
        let worker = try parse(["worker", argument], as: DocsendSync.Worker.self)
        #expect(worker.role.roles == roles)
        #expect(worker.role.argument == argument, "the connection name shows the word given")
    }

    @Test("the roles are listed in help, errors and completions as visits, links, leads, all")
    func workerRoleValues() {
        #expect(WorkerRoles.allValueStrings == ["visits", "links", "leads", "all"])
        #expect(WorkerRoles(argument: "visits") == .one(.visits))
        #expect(WorkerRoles(argument: "all") == .all)
        #expect(WorkerRoles(argument: "All") == nil)
        #expect(WorkerRoles(argument: "") == nil)
        let help = DocsendSync.helpMessage(for: DocsendSync.Worker.self, columns: 200)
        #expect(help.contains("<role>                  visits, links, leads or all. (values: visits, links, leads, all)"), "\(help)")
    }

    @Test("worker's flags override the broker, store and worker keys")
    func workerFlags() throws {
        let worker = try parse(
            [
                "worker", "links", "--amqp-url", "amqp://u:p@broker:5673/v", "--amqp-ca-file", "/ca.pem",
                "--topology-prefix", "pfx", "--exchange", "events", "--retry-intervals", "1s,2m",
                "--resync-interval", "3m", "--store-url", "sqlite:///tmp/s.db", "--data-dir", "/d",
                "--salesforce-login-url", "https://login.example", "--salesforce-client-id", "cid",
                "--concurrency", "3", "--team-concurrency", "2", "--prefetch", "7",
            ], as: DocsendSync.Worker.self)
        #expect(worker.role == .one(.links))
        #expect(worker.concurrency == 3)
        #expect(worker.teamConcurrency == 2)
        #expect(worker.prefetch == 7)
        #expect(worker.store.overrides == [
            "store.url": "sqlite:///tmp/s.db", "data.directory": "/d",
            "salesforce.loginURL": "https://login.example", "salesforce.clientID": "cid",
        ])
        let config = worker.broker.config(adding: worker.store.overrides)
        #expect(config.string(forKey: "amqp.url") == "amqp://u:p@broker:5673/v")
        #expect(config.string(forKey: "amqp.caFile") == "/ca.pem")
        #expect(config.string(forKey: "store.url") == "sqlite:///tmp/s.db")
        let topology = try worker.broker.topology()
        #expect(topology.prefix == "pfx")
        #expect(topology.activityExchange == "events")
        #expect(topology.retryIntervals == [.seconds(1), .seconds(120)])
        #expect(topology.resyncInterval == .seconds(180))
    }

    @Test("team connect takes a refresh token file or the client-credentials flow")
    func teamConnect() throws {
        let file = try parse(["team", "connect", "--team", "team_42", "--refresh-token-file", "-"], as: DocsendSync.Team.Connect.self)
        #expect(file.options.team == "team_42")
        #expect(file.refreshTokenFile == "-")
        #expect(!file.clientCredentials)
        let flow = try parse(
            ["team", "connect", "--team", "team_42", "--client-credentials", "--salesforce-client-id", "cid"],
            as: DocsendSync.Team.Connect.self)
        #expect(flow.clientCredentials)
        #expect(flow.refreshTokenFile == nil)
        #expect(flow.options.store.clientID == "cid")
    }

    @Test("team set takes toggles and repeatable mappings and account links")
    func teamSet() throws {
        let set = try parse(
            [
                "team", "set", "--team", "t", "--sync-visits", "off", "--sync-document-links", "on",
                "--sync-space-links", "off", "--create-leads", "on", "--create-open-tasks", "off",
                "--map", "document_name=Doc__c", "--map", "visit_duration=Dur__c", "--unmap", "percent_viewed",
                "--link-account", "acc_1=001A",
            ], as: DocsendSync.Team.Set.self)
        #expect(set.options.team == "t")
        #expect(set.syncVisits == .off)
        #expect(set.syncDocumentLinks == .on)
        #expect(set.syncSpaceLinks == .off)
        #expect(set.createLeads == .on)
        #expect(set.createOpenTasks == .off)
        #expect(set.map == ["document_name=Doc__c", "visit_duration=Dur__c"])
        #expect(set.unmap == ["percent_viewed"])
        #expect(set.linkAccount == ["acc_1=001A"])

        let untouched = try parse(["team", "set", "--team", "t"], as: DocsendSync.Team.Set.self)
        #expect(untouched.syncVisits == nil && untouched.createLeads == nil && untouched.map.isEmpty)
    }

    @Test("team show takes the team and the store flags")
    func teamShow() throws {
        let show = try parse(["team", "show", "--team", "t", "--store-url", "postgres://db/x"], as: DocsendSync.Team.Show.self)
        #expect(show.options.team == "t")
        #expect(show.options.config.string(forKey: "store.url") == "postgres://db/x")
    }

    @Test("parking list, replay and purge")
    func parking() throws {
        #expect(try parse(["parking", "list"], as: DocsendSync.Parking.List.self).limit == 100)
        #expect(try parse(["parking", "list", "--limit", "5"], as: DocsendSync.Parking.List.self).limit == 5)
        let replay = try parse(["parking", "replay", "--code", "salesforce", "--limit", "3"], as: DocsendSync.Parking.Replay.self)
        #expect(replay.code == "salesforce")
        #expect(replay.limit == 3)
        let all = try parse(["parking", "replay"], as: DocsendSync.Parking.Replay.self)
        #expect(all.code == nil && all.limit == nil)
        #expect(try parse(["parking", "purge", "--yes"], as: DocsendSync.Parking.Purge.self).yes)
    }

    @Test("topology declare and export, status")
    func topologyAndStatus() throws {
        let declare = try parse(["topology", "declare", "--topology-prefix", "p"], as: DocsendSync.Topology.Declare.self)
        #expect(try declare.broker.topology().prefix == "p")
        #expect(try parse(["topology", "export"], as: DocsendSync.Topology.Export.self).vhost == "/")
        #expect(try parse(["topology", "export", "--vhost", "prod"], as: DocsendSync.Topology.Export.self).vhost == "prod")
        let status = try parse(["status", "--amqp-url", "amqp://h"], as: DocsendSync.Status.self)
        #expect(status.broker.config.string(forKey: "amqp.url") == "amqp://h")
    }

    @Test("publish and simulate, with their defaults")
    func publishAndSimulate() throws {
        let publish = try parse(["publish", "-f", "events.jsonl"], as: DocsendSync.Publish.self)
        #expect(publish.file == "events.jsonl")
        #expect(publish.window == 64)
        #expect(try parse(["publish", "--file", "e", "--window", "1"], as: DocsendSync.Publish.self).window == 1)

        let defaults = try parse(["simulate"], as: DocsendSync.Simulate.self)
        #expect(defaults.seed == 1 && defaults.count == 1_000 && defaults.rate == 20)
        #expect(defaults.duplicates == 0 && defaults.output == nil && defaults.progress == 100)
        let simulate = try parse(
            ["simulate", "--seed", "9", "--count", "0", "--rate", "0", "--duplicates", "1", "-o", "-", "--progress", "1"],
            as: DocsendSync.Simulate.self)
        #expect(simulate.seed == 9 && simulate.count == 0 && simulate.rate == 0)
        #expect(simulate.duplicates == 1 && simulate.output == "-" && simulate.progress == 1)
    }

    @Test("the root is docsend-sync with its seven commands, in order")
    func root() throws {
        #expect(DocsendSync.configuration.commandName == "docsend-sync")
        let help = DocsendSync.helpMessage(columns: 200)
        let positions = try ["worker", "team", "parking", "topology", "publish", "simulate", "status"].map { command in
            try #require(help.range(of: "\n  \(command) ")?.lowerBound, "\(command) in \(help)")
        }
        #expect(positions == positions.sorted())
    }
}
