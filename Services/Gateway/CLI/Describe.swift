import CMessages
import Foundation
import GatewayCore
import Messages

/// `ocorre describe SERVICE/METHOD | MESSAGE`: the fields of a method's request and response (or
/// of one message by its full name), then of every message they hold, with the values of each
/// enum, read from the protobuf-c descriptors linked into the CLI: what to write in `call`'s JSON
/// without opening the `.proto` files.
extension Ocorre {
    static func describe(_ options: Options, _ arguments: [String]) throws {
        guard let target = arguments.first else {
            throw Failure(description: "uso / usage: ocorre describe SERVICE/METHOD | ocorrencias.<service>.v1.MESSAGE", status: 2)
        }
        let pt = TicketText.language(options) == .portuguese
        var roots: [String] = []
        var method: RpcV1.MethodInfo?
        if target.contains("/") {
            let client = try rpcClient(options)
            defer { client.close() }
            method = try resolveMethod(client, target).method
            roots = [method!.requestType, method!.responseType]
        } else {
            roots = [target]
        }
        // Breadth first from the roots: each message once, in the order first met.
        var queue: [UnsafePointer<ProtobufCMessageDescriptor>]
        do {
            queue = try roots.map { try ProtoJSON.descriptor(named: $0) }
        } catch let failure as ProtoJSON.Failure {
            // A name mistyped: usage, as for `call`'s method.
            throw Failure(description: failure.description + "\n  ocorre methods [SERVICE]: " + (pt ? "os nomes das mensagens" : "the messages' names"),
                          status: 2)
        }
        var seen = Set(queue.map { String(cString: $0.pointee.name) })
        var described: [[String: Any]] = []
        while !queue.isEmpty {
            let descriptor = queue.removeFirst()
            var fields: [[String: Any]] = []
            for field in UnsafeBufferPointer(start: descriptor.pointee.fields, count: Int(descriptor.pointee.n_fields)) {
                var entry: [String: Any] = ["name": String(cString: field.name), "number": Int(field.id), "type": typeName(field),
                                            "repeated": field.label.rawValue == PROTOBUF_C_LABEL_REPEATED.rawValue]
                if field.type.rawValue == PROTOBUF_C_TYPE_MESSAGE.rawValue {
                    let nested = field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                    if seen.insert(String(cString: nested.pointee.name)).inserted { queue.append(nested) }
                } else if field.type.rawValue == PROTOBUF_C_TYPE_ENUM.rawValue {
                    let values = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self).pointee
                    entry["values"] = UnsafeBufferPointer(start: values.values, count: Int(values.n_values)).map { String(cString: $0.name) }
                }
                fields.append(entry)
            }
            described.append(["message": String(cString: descriptor.pointee.name), "fields": fields])
        }
        if options.json {
            var answer: [String: Any] = ["messages": described]
            if let method {
                answer["method"] = ["name": method.name, "request": method.requestType, "response": method.responseType,
                                    "client_streaming": method.clientStreaming, "server_streaming": method.serverStreaming]
            }
            return try show(answer, options)
        }
        if let method {
            print(method.name)
            print((pt ? "  requisição: " : "  request:  ") + method.requestType + (method.clientStreaming ? (pt ? " (várias, em stream)" : " (a stream)") : ""))
            print((pt ? "  resposta:   " : "  response: ") + method.responseType + (method.serverStreaming ? (pt ? " (várias, em stream)" : " (a stream)") : ""))
            print("")
        }
        for message in described {
            print(TicketText.text(message["message"]))
            let rows = (message["fields"] as? [[String: Any]] ?? []).map { field -> [String] in
                var type = TicketText.text(field["type"])
                if field["repeated"] as? Bool == true { type = (pt ? "lista de " : "list of ") + type }
                let values = (field["values"] as? [String] ?? []).filter { !$0.hasSuffix("_UNSPECIFIED") }
                return [TicketText.text(field["name"]), type, values.joined(separator: ", ")]
            }
            print(table(headers: pt ? ["CAMPO", "TIPO", "VALORES"] : ["FIELD", "TYPE", "VALUES"], rows: rows,
                        empty: pt ? "(sem campos)" : "(no fields)", maxWidth: nil).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            print("")
        }
    }

    /// A field's type as `.proto` writes it; a message or enum by its full name.
    static func typeName(_ field: ProtobufCFieldDescriptor) -> String {
        switch field.type.rawValue {
        case PROTOBUF_C_TYPE_MESSAGE.rawValue:
            return String(cString: field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self).pointee.name)
        case PROTOBUF_C_TYPE_ENUM.rawValue:
            return String(cString: field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self).pointee.name)
        case PROTOBUF_C_TYPE_INT32.rawValue: return "int32"
        case PROTOBUF_C_TYPE_SINT32.rawValue: return "sint32"
        case PROTOBUF_C_TYPE_SFIXED32.rawValue: return "sfixed32"
        case PROTOBUF_C_TYPE_UINT32.rawValue: return "uint32"
        case PROTOBUF_C_TYPE_FIXED32.rawValue: return "fixed32"
        case PROTOBUF_C_TYPE_INT64.rawValue: return "int64"
        case PROTOBUF_C_TYPE_SINT64.rawValue: return "sint64"
        case PROTOBUF_C_TYPE_SFIXED64.rawValue: return "sfixed64"
        case PROTOBUF_C_TYPE_UINT64.rawValue: return "uint64"
        case PROTOBUF_C_TYPE_FIXED64.rawValue: return "fixed64"
        case PROTOBUF_C_TYPE_FLOAT.rawValue: return "float"
        case PROTOBUF_C_TYPE_DOUBLE.rawValue: return "double"
        case PROTOBUF_C_TYPE_BOOL.rawValue: return "bool"
        case PROTOBUF_C_TYPE_STRING.rawValue: return "string"
        case PROTOBUF_C_TYPE_BYTES.rawValue: return "bytes (base64)"
        default: return "?"
        }
    }
}
