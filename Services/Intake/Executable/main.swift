// The intake service executable: configuration, storage, RPC server and shutdown come from
// ServiceKit; everything intake does lives in IntakeCore.
import IntakeCore
import ServiceKit

ServiceMain.run(name: "intake", migrations: IntakeService.migrations) { runtime, router in
    try IntakeService.register(runtime: runtime, router: &router)
}
