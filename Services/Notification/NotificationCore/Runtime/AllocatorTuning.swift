#if canImport(Glibc)
import Glibc
#endif

/// glibc allocator settings for the sender's threads, applied once per process.
///
/// SQLite frees a statement's journal (≈ 200 KB when a multi-row statement touches many
/// pages) when the statement ends; with glibc's default trim threshold (128 KiB) that free
/// hands the memory back to the kernel from the thread's arena (`madvise`), and the next
/// statement faults it in again page by page. A profile of the sender showed thousands of
/// such trims per second and ≈ 20 % of the recorder's CPU in page faults. Keeping up to
/// ``trimThreshold`` free per arena ends the cycle; allocations above ``mmapThreshold`` still
/// get their own mapping (and are returned at once).
package enum AllocatorTuning {
    package static let trimThreshold: Int32 = 16 << 20
    package static let mmapThreshold: Int32 = 4 << 20

    private static let applied: Bool = {
        #if canImport(Glibc)
        // `mallopt` and its constants come from <malloc.h>, which the Glibc module does not
        // import: looked up by name, with the values of M_TRIM_THRESHOLD (-1) and
        // M_MMAP_THRESHOLD (-3). Setting either threshold turns glibc's dynamic adjustment
        // off, so both are set.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        return mallopt(-1, trimThreshold) == 1 && mallopt(-3, mmapThreshold) == 1
        #else
        return false
        #endif
    }()

    /// Applies the settings (once; later calls do nothing). - Returns: whether they are in effect.
    @discardableResult
    package static func apply() -> Bool { applied }
}
