import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Testing
import TestSupport

/// The real `workflow` and `notification` executables talking through their outboxes: a ticket
/// opened reaches both; notification mails the customer and workflow's history shows the e-mail.
@Suite("Notification: with the real workflow executable", .serialized)
struct EndToEndTests {
    @Test("TicketOpened → e-mail to the customer → EmailSent → an \"email\" entry in workflow's history")
    func historyShowsEmail() throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let data = try TemporaryDirectory(prefix: "e2e")
        let secretText = "notification-e2e-secret-0123456789"
        let workflowPort = try FreePort.next(), notificationPort = try FreePort.next()
        let common = [
            "OCORRENCIAS_SECRET": secretText, "OCORRENCIAS_LOG_LEVEL": "notice",
            "WORKFLOW_ADDRESSES": "127.0.0.1:\(workflowPort)", "NOTIFICATION_ADDRESSES": "127.0.0.1:\(notificationPort)",
            "INTAKE_ADDRESSES": "127.0.0.1:1", "KNOWLEDGE_ADDRESSES": "127.0.0.1:1",
        ]
        var workflowEnvironment = common
        workflowEnvironment["OCORRENCIAS_DATA_DIR"] = data.path + "/workflow"
        var notificationEnvironment = common
        notificationEnvironment["OCORRENCIAS_DATA_DIR"] = data.path + "/notification"
        notificationEnvironment["NOTIFICATION_SMTP_URL"] = "smtp://127.0.0.1:\(sink.port)"
        notificationEnvironment["NOTIFICATION_POLL_MS"] = "50"
        let workflow = try ServiceProcess(name: "workflow", environment: workflowEnvironment, port: workflowPort)
        let notification = try ServiceProcess(name: "notification", environment: notificationEnvironment, port: notificationPort)
        defer {
            notification.stop()
            workflow.stop()
        }
        let secret = DeploymentSecret(bytes: Array(secretText.utf8))
        func client(_ port: Int) -> RPCClient {
            RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)], secret: secret))
        }
        let workflowClient = client(workflowPort), notificationClient = client(notificationPort)
        defer {
            workflowClient.close()
            notificationClient.close()
        }
        // What intake's relay does: the same envelope to each subscriber.
        let ticketID = "e2e-\(UUID().uuidString.prefix(8).lowercased())"
        let opened = Events.opened(ticketID: ticketID, code: "2026-004242")
        var request = EventsV1.DeliverEventsRequest()
        var envelope = Events.envelope(opened, key: ticketID)
        envelope.source = "intake"
        request.events = [envelope]
        _ = try workflowClient.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 10_000))
        _ = try notificationClient.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 10_000))
        #expect(waitFor(20) { !sink.files("eml").isEmpty })

        let admin = PrincipalSigner(secret: secret).metadata(for: PrincipalSigner.service("test"))
        var history = WorkflowV1.GetHistoryRequest()
        history.ticketID = ticketID
        var entries: [WorkflowV1.HistoryEntry] = []
        let found = waitFor(30) {
            entries = (try? workflowClient.call(WorkflowV1.Workflow.getHistory, history,
                                                options: CallOptions(timeoutMilliseconds: 10_000, metadata: admin)).entries) ?? []
            return entries.contains { $0.kind == "email" }
        }
        #expect(found, "history: \(entries.map { "\($0.kind): \($0.newValue)" })\nworkflow log:\n\(workflow.log.suffix(2000))\nnotification log:\n\(notification.log.suffix(2000))")
        let email = entries.first { $0.kind == "email" }
        #expect(email?.newValue.hasPrefix("sent: [2026-004242]") == true)
        #expect(email?.note.contains("jose@cliente.example") == true)
        #expect(email?.actorName == "notification")
    }
}
