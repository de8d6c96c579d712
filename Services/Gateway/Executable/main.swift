// The gateway executable: the single door for people and integrations. For now it serves the
// RPC built-ins; HTTP/JSON, the portal and the RPC router follow in the gateway issue.
import ServiceKit

ServiceMain.run(name: "gateway", migrations: []) { _, _ in }
