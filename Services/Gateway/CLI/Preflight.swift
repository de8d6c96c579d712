import Foundation

extension Ocorre {
    /// Settings checked before any call, each a usage error (exit 2) that names what is wrong
    /// instead of a call that fails for another reason:
    /// - `--url` / `OCORRE_URL` must be an `http://` or `https://` address with a host (`--url
    ///   suporte:8080` used to fail as "unsupported URL", `ftp://…` as a host not found);
    /// - `--lang` / `OCORRE_LANG` must be Portuguese or English (`pt`, `en`, `pt-BR`…; `xx` was
    ///   taken as Portuguese without a word);
    /// - the saved login (`OCORRE_CONFIG`) must be readable JSON when it exists: a damaged or
    ///   unreadable file was taken as no login at all, so the next command called the default
    ///   address and said it could not reach a gateway there. `login` (which writes it anew),
    ///   `logout` and `help` go on without it.
    ///
    /// - Returns: the saved login, read here once for the whole command (``Options/saved``;
    ///   empty when there is none, or for `login`, `logout` and `help` when it cannot be read).
    static func preflight(_ options: Options, command: String) throws -> [String: String] {
        if let url = options.url {
            let parts = URLComponents(string: url)
            guard let scheme = parts?.scheme?.lowercased(), scheme == "http" || scheme == "https", parts?.host?.isEmpty == false else {
                throw Failure(description: "--url (OCORRE_URL) inválida / invalid: '\(url)'; use http://HOST:PORTA ou https://HOST / use http://HOST:PORT or https://HOST",
                              status: 2)
            }
        }
        if let language = options.flags["lang"] ?? ProcessInfo.processInfo.environment["OCORRE_LANG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let code = language.lowercased()
            guard code.hasPrefix("pt") || code.hasPrefix("en") else {
                throw Failure(description: "--lang (OCORRE_LANG): valor desconhecido / unknown value '\(language)'; aceitos / accepted: pt, en", status: 2)
            }
        }
        guard !["login", "logout", "help"].contains(command) else { return (try? savedLogin()) ?? [:] }
        return try savedLogin()
    }

    /// The saved login (`OCORRE_CONFIG`), read once: `{"url": …, "token": …}`, empty when there is
    /// no file. Throws when the file exists but cannot be read as that.
    static func savedLogin() throws -> [String: String] {
        let path = configPath
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "não foi possível ler o login salvo em / cannot read the saved login at \(path) (OCORRE_CONFIG): "
                + "confira as permissões ou entre de novo / check its permissions or sign in again: ocorre login --email EMAIL", status: 2)
        }
        guard let saved = (try? JSONSerialization.jsonObject(with: data)) as? [String: String] else {
            throw Failure(description: "o login salvo em \(path) (OCORRE_CONFIG) está danificado / the saved login at \(path) (OCORRE_CONFIG) is damaged: "
                + "entre de novo / sign in again: ocorre login --email EMAIL", status: 2)
        }
        return saved
    }
}
