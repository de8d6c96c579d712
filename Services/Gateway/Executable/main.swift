// The gateway executable: the single door for people and integrations. `gateway create-admin`
// creates the first administrator; otherwise it serves HTTP/JSON, the public RPC port and the
// RPC built-ins (everything lives in GatewayCore).
import Foundation
import GatewayCore
import ServiceKit

if let status = GatewayCommands.run() { exit(status) }
ServiceMain.run(name: "gateway", migrations: GatewayService.migrations,
                commands: ["create-admin --email E --password-stdin [--name N]   o primeiro administrador / the first administrator",
                           "routes   as rotas HTTP em JSON / the HTTP routes as JSON"]) { runtime, router in
    try GatewayService.register(runtime: runtime, router: &router)
}
