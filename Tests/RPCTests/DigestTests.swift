import RPCTransport
import Testing

/// SHA-256 (OpenSSL) against the standard's test vectors, whole and piece by piece.
@Suite struct DigestTests {
    static let vectors: [(input: [UInt8], sha256: String)] = [
        ([], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (Array(repeating: UInt8(ascii: "a"), count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ]

    @Test("one-shot and streamed SHA-256 give the standard's digests, however the bytes are split")
    func vectors() {
        for (input, expected) in Self.vectors {
            #expect(Digest.hex(Digest.sha256(input)) == expected)
            var stream = Digest.SHA256Stream()
            var offset = 0, step = 1
            while offset < input.count {
                let end = min(input.count, offset + step)
                stream.update(Array(input[offset..<end]))
                offset = end
                step = step * 3 + 1
            }
            #expect(Digest.hex(stream.finish()) == expected)
        }
    }

    @Test("a copy of a stream goes on independently of the original")
    func copies() {
        var first = Digest.SHA256Stream()
        first.update(Array("ab".utf8))
        var second = first
        first.update(Array("c".utf8))
        second.update(Array("d".utf8))
        #expect(Digest.hex(first.finish()) == Digest.hex(Digest.sha256(Array("abc".utf8))))
        #expect(Digest.hex(second.finish()) == Digest.hex(Digest.sha256(Array("abd".utf8))))
    }
}
