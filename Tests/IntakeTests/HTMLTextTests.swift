@testable import IntakeCore
import Testing

/// HTML-only mail as systems really write it, turned into the ticket's text.
@Suite("HTML-only mail to text")
struct HTMLTextTests {
    @Test("every Latin-1 named entity (PHP's htmlentities writes them all) and the typographic ones are decoded; unknown ones stay as written")
    func namedEntities() {
        let html = "<p>ATEN&Ccedil;&Atilde;O: N&Uacute;MERO DO &Oacute;RG&Atilde;O &Eacute; &ldquo;539&rdquo; &ndash; &Ecirc;XITO &Ocirc;NIBUS "
            + "&Otilde;ES &Iacute;NDICE &Agrave; &Acirc;NCORA; 1&ordm; 10&deg;C &sect;2 &laquo;x&raquo; &lsquo;y&rsquo; &bull; ling&uuml;i&ccedil;a "
            + "&copy;&reg;&trade; &euro;10 &frac12; &times; &shy;&zwnj;fim &naoexiste; &amp;amp;</p>"
        #expect(HTMLText.plainText(html) == "ATENÇÃO: NÚMERO DO ÓRGÃO É “539” – ÊXITO ÔNIBUS ÕES ÍNDICE À ÂNCORA; 1º 10°C §2 «x» ‘y’ • lingüiça "
            + "©®™ €10 ½ × \u{AD}\u{200C}fim &naoexiste; &amp;")
    }

    @Test("a body full of '<' without '>' is read in linear time, not once per '<' to the end")
    func unclosedTags() {
        let clock = ContinuousClock()
        let started = clock.now
        let text = HTMLText.plainText("<p>início</p>" + String(repeating: "a<b", count: 200_000) + " fim")
        #expect(clock.now - started < .seconds(3))
        #expect(text.hasPrefix("início\na<ba<b") && text.hasSuffix("a<b fim"))
    }
}
