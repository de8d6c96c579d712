// The knowledge service executable: configuration, storage, RPC server and shutdown come from
// ServiceKit; everything knowledge does lives in KnowledgeCore.
import KnowledgeCore
import ServiceKit

ServiceMain.run(name: "knowledge", migrations: KnowledgeService.migrations) { runtime, router in
    try KnowledgeService.register(runtime: runtime, router: &router)
}
