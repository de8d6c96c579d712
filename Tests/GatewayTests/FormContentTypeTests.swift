@testable import GatewayCore
import Testing

/// What the server hands libmicrohttpd's post processor as a form's `Content-Type`
/// (`FormContentType`; the forms themselves are posted in `FormPiecesTests.boundarySpellings`).
@Suite("A form's Content-Type rewritten to the one spelling libmicrohttpd reads right")
struct FormContentTypeTests {
    private func normalized(_ value: String) -> String? {
        FormContentType.normalized(Array(value.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("quoted, followed by parameters, in capitals, after a parameter naming it: the boundary alone")
    func rewritten() {
        #expect(normalized(#"multipart/form-data; boundary="a b:c""#) == "multipart/form-data;boundary=a b:c")
        #expect(normalized("multipart/form-data; boundary=XyZ; charset=UTF-8") == "multipart/form-data;boundary=XyZ")
        #expect(normalized("MULTIPART/FORM-DATA; BOUNDARY=XyZ") == "multipart/form-data;boundary=XyZ")
        #expect(normalized(#"multipart/form-data; note="x; boundary=Q"; boundary=XyZ"#) == "multipart/form-data;boundary=XyZ")
        #expect(normalized(#"multipart/form-data; boundary="X\"y""#) == #"multipart/form-data;boundary=X"y"#)
    }

    @Test("what libmicrohttpd already reads right, other types, and unusable boundaries are left alone")
    func leftAlone() {
        #expect(normalized("multipart/form-data; boundary=XyZ") == nil)
        #expect(normalized("multipart/form-data;boundary=XyZ") == nil)
        #expect(normalized("application/x-www-form-urlencoded; charset=utf-8") == nil)
        #expect(normalized("multipart/mixed; boundary=\"XyZ\"") == nil)
        #expect(normalized("multipart/form-data") == nil)
        #expect(normalized("multipart/form-data; boundary=\"XyZ") == nil)
        #expect(normalized("multipart/form-data; boundary=\"\"") == nil)
        #expect(normalized("multipart/form-data; boundary=" + String(repeating: "x", count: 71) + "; a=b") == nil)
    }

    @Test("the rewritten value is never longer than the one it replaces (it is written in place)")
    func neverLonger() {
        for value in [#"multipart/form-data;BOUNDARY=x"#, #"multipart/form-data;boundary="x""#, "multipart/form-data;boundary=x;a=b"] {
            let result = FormContentType.normalized(Array(value.utf8))
            #expect(result.map { $0.count <= value.utf8.count } ?? true, "\(value)")
        }
    }
}
