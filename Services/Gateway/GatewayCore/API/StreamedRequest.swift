/// What a streaming route does with its request body (``Router/addStreaming(_:_:_:)``).
public protocol RequestBodyConsumer: AnyObject {
    /// The next bytes of the body, in order.
    /// - Throws: to refuse the request; the rest of the body is then dropped and the error answered.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// The next bytes of a form field (`offset` 0 starts its value), for routes that take forms.
    /// - Throws: to refuse the request, as ``write(_:)``.
    func write(part: HTTPFormPart, offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws
    /// The whole body arrived: the answer.
    func finish() throws -> HTTPResponse
    /// The request ends without an answer from this consumer (the client went away, or
    /// ``write(_:)`` threw): undo what was started.
    func abandon()
}

extension RequestBodyConsumer {
    /// A raw body where a form is expected: 415.
    public func write(_ bytes: UnsafeRawBufferPointer) throws { throw APIError.unsupportedBody }
    /// A form where a raw body is expected: 415.
    public func write(part: HTTPFormPart, offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws { throw APIError.unsupportedBody }
}

/// An admitted streaming request: feeds its consumer, keeps the first error for the answer, and
/// completes the exchange (headers, metrics, access log) like any other request.
final class StreamedRequest: HTTPBodySink {
    let gateway: Gateway
    let exchange: Gateway.Exchange
    let request: HTTPRequest
    let route: Route
    let consumer: any RequestBodyConsumer
    private var failure: (any Error)?

    init(gateway: Gateway, exchange: Gateway.Exchange, request: HTTPRequest, route: Route, consumer: any RequestBodyConsumer) {
        self.gateway = gateway
        self.exchange = exchange
        self.request = request
        self.route = route
        self.consumer = consumer
    }

    var refused: Bool { failure != nil }

    func write(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        do { try consumer.write(bytes) } catch { fail(error) }
    }

    func write(part: HTTPFormPart, offset: UInt64, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard failure == nil else { return false }
        do { try consumer.write(part: part, offset: offset, bytes) } catch { fail(error) }
        return failure == nil
    }

    private func fail(_ error: any Error) {
        failure = error
        consumer.abandon()
    }

    func malformed() -> HTTPResponse {
        if failure == nil { fail(APIError.malformedForm) }
        return finish()
    }

    func finish() -> HTTPResponse {
        var response: HTTPResponse
        if let failure {
            response = gateway.errorResponse(failure, exchange)
        } else {
            do {
                response = try consumer.finish()
                gateway.viewCacheAfterRequest(method: request.method, route: route, parameters: request.pathParameters, status: response.status)
            } catch {
                consumer.abandon()
                response = gateway.errorResponse(error, exchange)
            }
        }
        return gateway.complete(exchange, request, response)
    }

    func abandon() {
        if failure == nil { consumer.abandon() }
        // Counted as 499 (client closed the request) in metrics and the access log.
        _ = gateway.complete(exchange, request, HTTPResponse(status: 499))
    }
}
