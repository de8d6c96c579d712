import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Reads a password for a command (`gateway create-admin`, `ocorre login`): from a terminal, one
/// line after a prompt on standard error with the typing not echoed; from a pipe or a file,
/// everything until the end (a trailing line break dropped either way).
public enum PasswordPrompt {
    /// - Parameter prompt: What the terminal shows before the password (pt-BR / en).
    public static func read(prompt: String = "Senha / Password: ", input: FileHandle = .standardInput) -> String {
        let descriptor = input.fileDescriptor
        var password: String
        if isatty(descriptor) == 1 {
            // Echo off before the prompt shows, and without discarding input (not TCSAFLUSH): what
            // is typed as soon as the prompt appears is neither shown nor lost.
            var saved = termios()
            let hidden = tcgetattr(descriptor, &saved) == 0
            if hidden {
                var silent = saved
                silent.c_lflag &= ~tcflag_t(ECHO)
                tcsetattr(descriptor, TCSANOW, &silent)
            }
            FileHandle.standardError.write(Data(prompt.utf8))
            password = readLine(strippingNewline: true) ?? ""
            if hidden {
                tcsetattr(descriptor, TCSANOW, &saved)
                FileHandle.standardError.write(Data("\n".utf8))
            }
        } else {
            password = String(decoding: input.readDataToEndOfFile(), as: UTF8.self)
        }
        while password.hasSuffix("\n") || password.hasSuffix("\r") { password.removeLast() }
        return password
    }
}
