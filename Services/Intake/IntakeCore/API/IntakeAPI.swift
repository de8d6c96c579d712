import Messages
import RPC
import RPCTransport
import ServiceKit

/// Binds every `ocorrencias.intake.v1.Intake` method to its operation: each handler verifies the
/// signed principal, then calls ``IntakeContext``.
enum IntakeAPI {
    static func register(_ intake: IntakeContext, principals: PrincipalSigner, in router: inout RPCRouter) {
        typealias API = IntakeV1.Intake
        @Sendable func caller(_ context: ServerContext) throws -> Caller {
            Caller(try principals.require(context), calling: context)
        }
        /// The caller of a method that changes tickets or the directory: an integration's key
        /// needs `tickets.work` (``Caller/requireIntegrationMayWrite()``).
        @Sendable func writer(_ context: ServerContext) throws -> Caller {
            let who = try caller(context)
            try who.requireIntegrationMayWrite()
            return who
        }

        // Directory.
        router.register(API.createOrganization) { request, context in try intake.createOrganization(request, caller: writer(context), idempotencyKey: context.idempotencyKey) }
        router.register(API.updateOrganization) { request, context in try intake.updateOrganization(request, caller: writer(context)) }
        router.register(API.getOrganization) { request, context in try intake.getOrganization(request.organizationID, caller: caller(context)) }
        router.register(API.addContact) { request, context in try intake.addContact(request, caller: writer(context), idempotencyKey: context.idempotencyKey) }
        router.register(API.updateContact) { request, context in try intake.updateContact(request, caller: writer(context)) }
        router.register(API.getContact) { request, context in try intake.getContact(request.contactID, caller: caller(context)) }
        router.register(API.setContactActive) { request, context in
            try intake.setContactActive(request.contactID, active: request.active, caller: writer(context))
        }
        router.register(API.deleteContact) { request, context in
            try intake.deleteContact(request.contactID, caller: writer(context))
            return IntakeV1.DeleteContactResponse()
        }
        router.register(API.listContacts) { request, context in try intake.listContacts(request, caller: caller(context)) }
        router.register(API.createRepresentative) { request, context in try intake.createRepresentative(request, caller: writer(context), idempotencyKey: context.idempotencyKey) }
        router.register(API.lookupCustomers) { request, context in try intake.lookupCustomers(request, caller: caller(context)) }
        router.register(API.listOrganizations) { request, context in try intake.listOrganizations(request, caller: caller(context)) }
        router.register(API.getRepresentative) { request, context in
            try intake.getRepresentative(request.representativeID, caller: caller(context))
        }
        router.register(API.updateRepresentative) { request, context in try intake.updateRepresentative(request, caller: writer(context)) }
        router.register(API.listRepresentativeOrganizations) { request, context in
            try intake.representativeOrganizations(request, caller: caller(context))
        }
        router.register(API.addRepresentativeContact) { request, context in
            try intake.addRepresentativeContact(request, caller: writer(context), idempotencyKey: context.idempotencyKey)
        }
        router.register(API.updateRepresentativeContact) { request, context in
            try intake.updateRepresentativeContact(request, caller: writer(context))
        }
        router.register(API.listRepresentativeContacts) { request, context in
            try intake.representativeContacts(request, caller: caller(context))
        }
        router.register(API.getRepresentativeContact) { request, context in
            try intake.getRepresentativeContact(request.contactID, caller: caller(context))
        }
        router.register(API.listOrganizationRepresentatives) { request, context in
            try intake.organizationRepresentatives(request, caller: caller(context))
        }

        // Tickets.
        if intake.opensWithoutBlocking {
            // Group commit: the handler only checks the signature and queues the open; the group
            // commit's writer answers once the batch committed. No RPC worker waits for it.
            router.registerCompleting(API.openTicket) { request, context, respond in
                let who: Caller
                do { who = try writer(context) } catch {
                    respond(.failure(error))
                    return
                }
                intake.openTicket(request, caller: who, idempotencyKey: context.idempotencyKey,
                                  isCancelled: { context.isCancelled }, completion: respond)
            }
        } else {
            router.register(API.openTicket) { request, context in
                try intake.openTicket(request, caller: writer(context), idempotencyKey: context.idempotencyKey)
            }
        }
        router.register(API.getTicket) { request, context in try intake.getTicket(request, caller: caller(context)) }
        router.register(API.reply) { request, context in
            var request = request
            // Only the e-mail channel (a service) records the Message-ID of a reply.
            let who = try writer(context)
            if !who.isService { request.emailMessageID = "" }
            return try intake.reply(request, caller: who, idempotencyKey: context.idempotencyKey)
        }
        router.register(API.cancelTicket) { request, context in try intake.cancel(request, caller: writer(context)) }
        router.register(API.changeTicketContact) { request, context in
            try intake.changeContact(request, caller: writer(context))
        }

        // Attachments.
        // Received on a worker thread; its rows are then queued to the group commit's writer,
        // which answers once they committed (the worker does not wait for the batch). A small
        // upload that arrived whole is received on the event loop instead (nothing in it blocks).
        router.registerStreamingCompleting(API.uploadAttachment, runsInline: { intake.uploadRunsWithoutBlocking($0) }) { requests, context, respond in
            let who: Caller
            let first: IntakeV1.UploadAttachmentRequest
            do {
                who = try caller(context)
                guard let received = try requests.receive() else { throw RPCError(.invalidArgument, "envio vazio / empty upload") }
                first = received
            } catch {
                respond(.failure(error))
                return
            }
            intake.upload(first: first, next: {
                try context.checkCancellation()
                return try requests.receive()
            }, caller: who, isCancelled: { context.isCancelled }, completion: respond)
        }
        router.register(API.addFiles) { request, context in
            try intake.addFiles(request, caller: writer(context), idempotencyKey: context.idempotencyKey)
        }
        router.registerStreaming(API.downloadAttachment) { requests, responses, context in
            let who = try caller(context)
            guard let request = try requests.receive() else { return nil }
            try intake.download(request, caller: who) { chunk in
                try context.checkCancellation()
                try responses.send(chunk)
            }
            return nil
        }

        // Configuration.
        router.register(API.listChannels) { request, context in
            _ = try caller(context)
            var response = IntakeV1.ListEntriesResponse()
            response.entries = try intake.listEntries("channel", includeInactive: request.includeInactive)
            return response
        }
        router.register(API.putChannel) { request, context in try intake.putEntry("channel", request, caller: caller(context)) }
        router.register(API.listOrigins) { request, context in
            _ = try caller(context)
            var response = IntakeV1.ListEntriesResponse()
            response.entries = try intake.listEntries("origin", includeInactive: request.includeInactive)
            return response
        }
        router.register(API.putOrigin) { request, context in try intake.putEntry("origin", request, caller: caller(context)) }
        router.register(API.listCustomFields) { request, context in
            _ = try caller(context)
            var response = IntakeV1.ListCustomFieldsResponse()
            response.fields = try intake.listCustomFields(request)
            return response
        }
        router.register(API.putCustomField) { request, context in try intake.putCustomField(request, caller: caller(context)) }
        router.register(API.getSupportPolicy) { _, context in
            _ = try caller(context)
            return try intake.supportPolicy()
        }
        router.register(API.putSupportPolicy) { request, context in try intake.putSupportPolicy(request, caller: caller(context)) }
        router.register(API.getFileLimits) { _, context in
            _ = try caller(context)
            return intake.settings.fileLimits
        }
    }
}
