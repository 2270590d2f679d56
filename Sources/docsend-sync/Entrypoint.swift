import DocsendSyncCLI
import Foundation
import Logging

/// The `docsend-sync` binary: swift-log and swift-metrics bootstrapped once, then the command line (`DocsendSyncCLI`).
@main
enum Entrypoint {
    static func main() async {
        let environment = ProcessInfo.processInfo.environment
        LoggingSystem.bootstrap { CommandLogging.handler(label: $0, environment: environment) }
        CommandMetrics.bootstrap()
        await DocsendSync.main()
    }
}
