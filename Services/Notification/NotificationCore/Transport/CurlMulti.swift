import CCurl

/// A libcurl multi handle: one thread runs several transfers (each on its own ``CurlEasy``) at
/// once, waiting for all of their sockets in one `poll`. The connections are kept in the multi
/// handle's cache and reused by whichever handle sends next to the same host.
///
/// Used by one thread, except ``wakeup()``, which any thread may call.
final class CurlMulti: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// - Parameter connections: connections kept open between transfers (at most the number of
    ///   transfers run at once is useful).
    init(connections: Int) {
        _ = CurlEasy.globalInit
        handle = curl_multi_init()
        _ = ccurl_multi_setopt_long(handle, CURLMOPT_MAXCONNECTS, max(1, connections))
    }

    deinit { curl_multi_cleanup(handle) }

    /// Starts running a prepared transfer. - Returns: false when libcurl refused it.
    func add(_ curl: CurlEasy) -> Bool { curl_multi_add_handle(handle, curl.handle) == CURLM_OK }

    /// Takes a transfer out (ended, or aborted when it had not).
    func remove(_ curl: CurlEasy) { _ = curl_multi_remove_handle(handle, curl.handle) }

    /// Moves every transfer on as far as its sockets allow without waiting.
    func perform() {
        var running: Int32 = 0
        _ = curl_multi_perform(handle, &running)
    }

    /// The transfers that ended since the last call, with how each ended.
    func ended() -> [(handle: UnsafeMutableRawPointer, code: CURLcode)] {
        var ended: [(UnsafeMutableRawPointer, CURLcode)] = []
        var left: Int32 = 0
        while let message = curl_multi_info_read(handle, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            ended.append((easy, message.pointee.data.result))
        }
        return ended
    }

    /// Waits until a transfer's socket is ready, a timer of libcurl's is due, ``wakeup()`` is
    /// called, or `milliseconds` pass.
    func wait(milliseconds: Int32) {
        var ready: Int32 = 0
        _ = curl_multi_poll(handle, nil, 0, milliseconds, &ready)
    }

    /// Ends a ``wait(milliseconds:)`` in progress, or the next one at once.
    func wakeup() { _ = curl_multi_wakeup(handle) }
}
