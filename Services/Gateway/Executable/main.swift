// The gateway executable: the single door for people and integrations. `gateway create-admin`
// creates the first administrator; otherwise it serves HTTP/JSON, the public RPC port and the
// RPC built-ins (everything lives in GatewayCore).
import Foundation
import GatewayCore
import ServiceKit

if let status = GatewayCommands.run() { exit(status) }
ServiceMain.run(name: "gateway", migrations: GatewayService.migrations,
                commands: ["create-admin --email E --password-stdin [--name N] [--agent-id ID] [--data-dir D]   o primeiro administrador / the first administrator",
                           "routes   as rotas HTTP em JSON / the HTTP routes as JSON"],
                settings: [(variable: "GATEWAY_HTTP_PORT", value: "8080 (API HTTP e portal / HTTP API and portal)"),
                           (variable: "GATEWAY_HTTP_HOST", value: "OCORRENCIAS_HOST"),
                           (variable: "GATEWAY_RPC_PROXY_PORT", value: "7190 (integrações, chaves de API / integrations, API keys; off)"),
                           (variable: "GATEWAY_PUBLIC_URL", value: "http://127.0.0.1:<GATEWAY_HTTP_PORT> (links nos e-mails / links in e-mails)")],
                ports: GatewayService.ports, prepare: GatewayService.prepare)
