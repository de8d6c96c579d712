// The notification service executable: configuration, storage, RPC server and shutdown come from
// ServiceKit; everything notification does lives in NotificationCore.
import NotificationCore
import ServiceKit

ServiceMain.run(name: "notification", migrations: NotificationService.migrations, databaseTuning: NotificationService.databaseTuning) { runtime, router in
    try NotificationService.register(runtime: runtime, router: &router)
}
