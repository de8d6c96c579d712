import Foundation
import CMessages
import GatewayCore
import Messages
import RPC
import RPCTransport

/// `ocorre methods` and `ocorre call`: any method of any service through the gateway's RPC port,
/// found by reflection and encoded from JSON with the request's protobuf-c descriptor.
extension Ocorre {
    static func rpcClient(_ options: Options) throws -> RPCClient {
        guard let key = options.apiKey else {
            throw Failure(description: "a porta RPC do gateway pede uma chave de API (--api-key ou OCORRE_API_KEY) / the gateway's RPC port needs an API key", status: 2)
        }
        let address = rpcAddress(options)
        guard let endpoint = Endpoint(address) else { throw Failure(description: "endereço inválido / invalid address \(address) (--rpc, OCORRE_RPC)", status: 2) }
        var configuration = ClientConfiguration(endpoints: [endpoint], secret: .random())
        configuration.apiKey = key
        configuration.callerName = "ocorre"
        configuration.maxAttempts = 1
        return RPCClient(configuration: configuration)
    }

    /// Every method behind the gateway's RPC port (or of one service), from reflection.
    static func listMethods(_ client: RPCClient, service: String?) throws -> [RpcV1.MethodInfo] {
        var options = CallOptions(timeoutMilliseconds: 10_000)
        if let service { options.metadata[MetadataKey.service] = service }
        return try client.call(RpcV1.Reflection.listMethods, RpcV1.ListMethodsRequest(), options: options).methods
    }

    static func methods(_ options: Options, service: String?) throws {
        let client = try rpcClient(options)
        defer { client.close() }
        let methods = try listMethods(client, service: service)
        if options.json {
            try show(methods.map { ["method": $0.name, "request": $0.requestType, "response": $0.responseType,
                                    "streaming": $0.clientStreaming || $0.serverStreaming ? "yes" : "no",
                                    "client_streaming": $0.clientStreaming, "server_streaming": $0.serverStreaming] }, options)
            return
        }
        // Names are never cut: they are what `call` and `describe` take.
        let pt = TicketText.language(options) == .portuguese
        let rows = methods.map { info -> [String] in
            let streaming = info.clientStreaming && info.serverStreaming ? (pt ? "ambos" : "both")
                : info.clientStreaming ? (pt ? "envio" : "client") : info.serverStreaming ? (pt ? "resposta" : "server") : (pt ? "não" : "no")
            return [info.name, info.requestType, info.responseType, streaming]
        }
        print(table(headers: pt ? ["MÉTODO", "REQUISIÇÃO", "RESPOSTA", "STREAMING"] : ["METHOD", "REQUEST", "RESPONSE", "STREAMING"],
                    rows: rows, maxWidth: nil))
    }

    /// `call intake/OpenTicket '{"subject": "..."}'` (or the method's full path, as `methods` prints
    /// it: `/ocorrencias.intake.v1.Intake/OpenTicket`): finds the method by reflection, encodes
    /// the JSON with the request's descriptor, calls it through the gateway and prints the answer.
    /// Streaming methods too: see ``requests(_:clientStreaming:)`` and ``stream(_:_:requests:responseType:_:_:)``.
    static func call(_ options: Options, _ arguments: [String]) throws {
        guard let target = arguments.first, target.contains("/") else {
            throw Failure(description: "uso / usage: ocorre call SERVICE/METHOD '{json}'", status: 2)
        }
        let json = try callInput(arguments.count > 1 ? arguments[1] : "{}")
        let client = try rpcClient(options)
        defer { client.close() }
        try call(client, target, json, options)
    }

    /// A refused or failed RPC (of `call`, `methods`, `describe`) as the command's failure: the
    /// status and message, each field violation on a line; with `--json` also on standard output,
    /// metadata included (``errorObject(_:)``). A port not reached, or a key it refused, names the
    /// address called (`address`, ``rpcAddress(_:)``): the wrong gateway is the likely cause.
    static func rpcFailure(_ error: RPCError, address: String) -> Failure {
        var text = "\(error.code.name): \(error.message)"
        for violation in error.violations { text += "\n  - \(violation.field): \(violation.descriptionPT)" }
        if [.unavailable, .deadlineExceeded, .unauthenticated].contains(error.code) {
            text += "\n  porta RPC do gateway / the gateway's RPC port: \(address) (--rpc, OCORRE_RPC; senão / else --url's host:\(defaultRPCPort))"
        }
        return Failure(description: text, errorJSON: errorObject(error))
    }

    /// A method named `SERVICE/Method` or by its full path (`/ocorrencias.intake.v1.Intake/OpenTicket`),
    /// found by the gateway's reflection; `builtin` for the methods every service has (health,
    /// reflection, echo), called with the service in the `service` metadata.
    static func resolveMethod(_ client: RPCClient, _ target: String) throws -> (method: RpcV1.MethodInfo, service: String, builtin: Bool) {
        guard let slash = target.firstIndex(of: "/") else { throw Failure(description: "SERVICE/METHOD", status: 2) }
        var service = String(target[..<slash])
        var methodName = String(target[target.index(after: slash)...])
        // The full path, as `ocorre methods` prints it: /ocorrencias.intake.v1.Intake/LookupCustomers.
        if target.hasPrefix("/"), let owner = Gateway.service(ofMethod: target) {
            guard owner != "rpc" else {
                let name = target.split(separator: "/").last.map(String.init) ?? target
                throw Failure(description: "\(target) existe em todo serviço; diga qual / exists in every service; say which: ocorre call intake/\(name)", status: 2)
            }
            (service, methodName) = (owner, target)
        }
        let builtin = ["Check", "ListMethods", "Echo", "EchoStream"].contains(methodName)
        var methods = try listMethods(client, service: builtin ? service : nil)
        if !builtin && !methods.contains(where: { Gateway.service(ofMethod: $0.name) == service }) {
            // The gateway lists the methods of the services that answered it: none of this one's
            // means it is down or unknown, which its own listing says (UNAVAILABLE, NOT_FOUND)
            // rather than "method not found".
            methods = try listMethods(client, service: service)
        }
        let candidates = methods.filter { info in
            let path = info.name
            let matchesService = Gateway.service(ofMethod: path) == service || builtin
            return matchesService && (path.hasSuffix("/" + methodName) || path == methodName || path == "/" + methodName)
        }
        guard let method = candidates.first else {
            let known = methods.filter { Gateway.service(ofMethod: $0.name) == service }.map { "  " + $0.name }.joined(separator: "\n")
            throw Failure(description: "método não encontrado / method not found: \(target)\n\(known)", status: 2)
        }
        return (method, service, builtin)
    }

    static func call(_ client: RPCClient, _ target: String, _ json: Any, _ options: Options) throws {
        let (method, service, builtin) = try resolveMethod(client, target)
        var callOptions = CallOptions(timeoutMilliseconds: 30_000)
        if builtin { callOptions.metadata[MetadataKey.service] = service }
        if let key = options.flags["idempotency-key"] { callOptions.metadata[MetadataKey.idempotencyKey] = key }
        let requestType = try ProtoJSON.descriptor(named: method.requestType)
        let responseType = try ProtoJSON.descriptor(named: method.responseType)
        // The JSON is encoded before anything is sent: a field that does not fit the request
        // message is the caller's mistake, told as a usage error (exit 2) naming the field.
        let payloads: [[UInt8]]
        do {
            if method.clientStreaming || method.serverStreaming {
                payloads = try requests(json, clientStreaming: method.clientStreaming).map { try ProtoJSON.encode($0, as: requestType) }
            } else {
                guard let object = json as? [String: Any] else {
                    throw Failure(description: "a requisição deve ser um objeto JSON / the request must be a JSON object", status: 2)
                }
                payloads = [try ProtoJSON.encode(object, as: requestType)]
            }
        } catch let failure as ProtoJSON.Failure {
            let error = RPCError(.invalidArgument, "requisição inválida / invalid request", violations: [
                FieldViolation(field: failure.field, reason: "invalid", pt: failure.pt, en: failure.en)])
            throw Failure(description: failure.description, status: 2, errorJSON: errorObject(error))
        }
        if method.clientStreaming || method.serverStreaming {
            return try stream(client, method, requests: payloads, responseType: responseType, callOptions, options)
        }
        let bytes = try client.callRaw(path: method.name, payload: payloads[0], options: callOptions)
        try show(try ProtoJSON.decode(bytes, as: responseType), options)
    }

    /// A failed call as `--json` prints it, in the shape of the HTTP API's errors plus the
    /// status's metadata (`status.handler_started`, `status.retry_after_ms`, ...; also the
    /// client's own `transport.*` notes, e.g. whether the request was sent):
    /// `{"error": {"code", "message", "message_en", "details": [{"field", "reason", "message", "message_en"}], "metadata": {...}}}`.
    static func errorObject(_ error: RPCError) -> [String: Any] {
        let (pt, en) = BilingualText.split(error.message)
        let details: [[String: Any]] = error.violations.map {
            ["field": $0.field, "reason": $0.reason, "message": $0.descriptionPT, "message_en": $0.descriptionEN]
        }
        return ["error": ["code": error.code.name, "message": pt, "message_en": en, "details": details, "metadata": error.metadata]]
    }

    /// The requests of a streaming call: one object for a method whose client does not stream;
    /// for a client-streaming one, an array of objects, or (`-`) one JSON object per line of
    /// standard input, sent as they are read.
    static func requests(_ json: Any, clientStreaming: Bool) throws -> [[String: Any]] {
        if let object = json as? [String: Any] { return [object] }
        guard clientStreaming, let list = json as? [[String: Any]] else {
            throw Failure(description: clientStreaming
                          ? "esperado um objeto JSON ou uma lista deles / expected a JSON object or a list of them"
                          : "a requisição deve ser um objeto JSON / the request must be a JSON object", status: 2)
        }
        return list
    }

    /// Runs a streaming call: sends the requests (then closes the sending side), and prints every
    /// response as it arrives: with `--json` one compact JSON object per line (JSON Lines), else
    /// each as `key: value` lines separated by `---`.
    static func stream(_ client: RPCClient, _ method: RpcV1.MethodInfo, requests: [[UInt8]], responseType: UnsafePointer<ProtobufCMessageDescriptor>,
                       _ callOptions: CallOptions, _ options: Options) throws {
        let call = try client.rawStream(path: method.name, clientStreaming: method.clientStreaming,
                                        first: method.clientStreaming ? nil : requests.first, options: callOptions)
        if method.clientStreaming {
            for request in requests { try call.send(request) }
            try call.closeSend()
        }
        var count = 0
        while let bytes = try call.receive() {
            let answer = try ProtoJSON.decode(bytes, as: responseType)
            if options.json {
                let data = try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            } else {
                if count > 0 { print("---") }
                try show(answer, options)
            }
            count += 1
        }
    }

    /// The JSON after `call SERVICE/METHOD`: an object, a list of objects, or `-` for JSON Lines on
    /// standard input (one object per line, blank lines skipped).
    static func callInput(_ text: String) throws -> Any {
        if text == "-" {
            var list: [[String: Any]] = []
            while let line = readLine(strippingNewline: true) {
                guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                list.append(try parseJSON(line))
            }
            return list.count == 1 ? list[0] : list
        }
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8)), value is [String: Any] || value is [[String: Any]] else {
            throw Failure(description: "JSON inválido / invalid JSON: \(text)", status: 2)
        }
        return value
    }
}
