import DocsendSyncCLI
import Foundation
import Logging

/// The `docsend-sync` binary: swift-log and swift-metrics bootstrapped once, then the command line (`DocsendSyncCLI`).
@main
enum Entrypoint {
    static func main() async {
        let environment = ProcessInfo.processInfo.environment
        LoggingSystem.bootstrap { CommandLogging.handler(label: $0, environment: environment) }
        if CommandLogging.format(environment: environment) == nil {
            Logger(label: "docsend-sync").warning(
                "\(CommandLogging.formatVariable) is neither text nor json: logging as text")
        }
        CommandMetrics.bootstrap()
        await DocsendSync.main()
    }
}
