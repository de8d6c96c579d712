import Messages

extension IntakeSettings {
    /// The limits intake applies to files, as `GetFileLimits` answers them: clients (the
    /// gateway's `GET /v1/file-limits`, the portal, the CLI) refuse or upload apart what intake
    /// would refuse inside an open or a reply, instead of learning it from an error.
    public var fileLimits: IntakeV1.FileLimits {
        var limits = IntakeV1.FileLimits()
        limits.maxFileBytes = maxFileBytes
        limits.maxTicketBytes = maxTicketBytes
        limits.inlineFileBytes = OpenTicketFiles.fileLimit(self)
        limits.inlineMaxFiles = Int32(clamping: openFilesMaxCount)
        limits.inlineMaxBytes = openFilesMaxBytes
        return limits
    }
}
