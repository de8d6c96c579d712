import Foundation
import RPC

/// What callers are told when the content store's disk fails under an upload or a download,
/// instead of "erro interno / internal error": a full disk or an unwritable directory is the
/// operator's to fix, and the caller may try again later (`UNAVAILABLE`: the gateway answers 503
/// with this message). The store's own text (path, `errno`) goes to the service's log only
/// (``RPCError/causeKey``).
extension IntakeContext {
    /// `body`, with a ``ContentStoreError`` it throws told as ``storeFailure(_:)``.
    static func contentStoreCalls<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ContentStoreError { throw storeFailure(error) }
    }

    /// The answer to a failure of the content store: `UNAVAILABLE`, saying whether the disk is
    /// full (`ENOSPC`, `EDQUOT`).
    static func storeFailure(_ error: ContentStoreError) -> RPCError {
        let cause = [RPCError.causeKey: error.description]
        if error.code == ENOSPC || error.code == EDQUOT {
            return RPCError(.unavailable, "sem espaço em disco para anexos; tente mais tarde / no disk space left for attachments; try again later",
                            metadata: cause)
        }
        return RPCError(.unavailable, "armazenamento de anexos indisponível; tente mais tarde / attachment storage unavailable; try again later",
                        metadata: cause)
    }

    /// Reads a stored content's bytes for a download: a file that is gone is `DATA_LOSS` (a row
    /// names it, so it was lost outside intake), any other failure ``storeFailure(_:)``.
    func readStored(_ sha256: String, offset: Int64, length: Int) throws -> [UInt8] {
        do { return try contents.read(sha256, offset: offset, length: length) } catch let error as ContentStoreError {
            guard error.code == ENOENT else { throw Self.storeFailure(error) }
            throw RPCError(.dataLoss, "conteúdo do anexo ausente / attachment content missing", metadata: [RPCError.causeKey: error.description])
        }
    }
}
