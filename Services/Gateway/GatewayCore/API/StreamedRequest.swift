/// What a streaming route does with its request body (``Router/addStreaming(_:_:_:)``).
public protocol RequestBodyConsumer: AnyObject {
    /// The next bytes of the body, in order.
    /// - Throws: to refuse the request; the rest of the body is then dropped and the error answered.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// The whole body arrived: the answer.
    func finish() throws -> HTTPResponse
    /// The request ends without an answer from this consumer (the client went away, or
    /// ``write(_:)`` threw): undo what was started.
    func abandon()
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

    func write(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        do { try consumer.write(bytes) } catch {
            failure = error
            consumer.abandon()
        }
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
