// The workflow service executable: configuration, storage, RPC server and shutdown come from
// ServiceKit; everything workflow does lives in WorkflowCore.
import WorkflowCore
import ServiceKit

ServiceMain.run(name: "workflow", migrations: WorkflowService.migrations, databaseTuning: WorkflowService.databaseTuning) { runtime, router in
    try WorkflowService.register(runtime: runtime, router: &router)
}
