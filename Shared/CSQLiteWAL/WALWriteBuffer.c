/*
 * A SQLite VFS that writes a connection's WAL appends in one system call per commit.
 *
 * SQLite appends a WAL frame with two writes, its 24-byte header and then its page; a commit of
 * 80 pages is 160 pwrite calls, and on Linux each call costs the kernel's write path once
 * (≈ 1.1 µs here) on top of copying the bytes. This VFS is the default VFS for every file but
 * the WAL (the database, journals and temporary files are opened by it directly, untouched);
 * a WAL file gets methods that gather consecutive appends in a buffer and write them at once.
 *
 * When the buffered bytes reach the file (nothing else changes: the same bytes at the same
 * offsets):
 *  - at the end of a commit: the write of a commit frame's page (a frame header whose
 *    "database size" field is not zero marks the commit frame) writes the buffer, and its error
 *    is that write's error, so the commit fails as it does without the buffer. Other
 *    connections learn of a commit only after SQLite's write calls returned (it then updates
 *    the shared WAL index), so they never see a frame that is not in the file;
 *  - before any other operation on the WAL: a read (the writer reading back a frame it
 *    spilled, checkpoints, recovery), a write that does not append (a frame rewritten in place,
 *    the WAL header after a reset), sync, truncate, size, file control, close;
 *  - when the buffer is full (frames of a transaction larger than the buffer, or spilled
 *    before its commit, reach the file as they would without it: uncommitted frames are
 *    ignored by readers and by recovery).
 *
 * A connection is used by one thread at a time (SQLite's rule for a connection), so a WAL
 * file's buffer needs no lock.
 */
#include "CSQLiteWAL.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/**
 * Bytes gathered before they are written regardless (31 frames of 4 KiB pages): the default
 * VFS writes at most 128 KiB - 1 bytes per call (its `seekAndWrite` masks the count with 0x1ffff;
 * a larger write is cut short and reported as SQLITE_FULL).
 */
#define BUFFER_CAPACITY 0x1ffff

/** A WAL frame header's size; SQLite writes it with a call of its own before the page. */
#define FRAME_HEADER_BYTES 24

/** The size of the WAL file's own header (the first frame follows it). */
#define WAL_HEADER_BYTES 32

typedef struct WALFile {
    sqlite3_file base;
    /** The default VFS's file, allocated right after this struct. */
    sqlite3_file *real;
    /** Lazily allocated (reader connections never write): BUFFER_CAPACITY bytes. */
    unsigned char *buffer;
    int length;
    /** The file offset of buffer[0]. */
    sqlite3_int64 start;
    /** The last write was a commit frame's header: the next write ends the commit. */
    int commitFramePending;
} WALFile;

static sqlite3_vfs *underlying;
static sqlite3_vfs vfs;

/** Writes what is buffered (when anything is). */
static int flush(WALFile *file) {
    if (file->length == 0) return SQLITE_OK;
    int length = file->length;
    file->length = 0;
    return file->real->pMethods->xWrite(file->real, file->buffer, length, file->start);
}

static int walClose(sqlite3_file *pFile) {
    WALFile *file = (WALFile *)pFile;
    int rc = flush(file);
    int closed = file->real->pMethods->xClose(file->real);
    free(file->buffer);
    file->buffer = NULL;
    return rc != SQLITE_OK ? rc : closed;
}

static int walRead(sqlite3_file *pFile, void *data, int amount, sqlite3_int64 offset) {
    WALFile *file = (WALFile *)pFile;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xRead(file->real, data, amount, offset);
}

static int walWrite(sqlite3_file *pFile, const void *data, int amount, sqlite3_int64 offset) {
    WALFile *file = (WALFile *)pFile;
    int appends = file->length > 0 && offset == file->start + file->length && file->length + amount <= BUFFER_CAPACITY;
    if (!appends) {
        int rc = flush(file);
        if (rc != SQLITE_OK) return rc;
        if (file->buffer == NULL && amount < BUFFER_CAPACITY) {
            file->buffer = malloc(BUFFER_CAPACITY);
        }
        if (file->buffer == NULL || amount >= BUFFER_CAPACITY) {
            file->commitFramePending = 0;
            return file->real->pMethods->xWrite(file->real, data, amount, offset);
        }
        file->start = offset;
    }
    memcpy(file->buffer + file->length, data, (size_t)amount);
    file->length += amount;
    if (amount == FRAME_HEADER_BYTES && offset >= WAL_HEADER_BYTES) {
        /* A frame header: bytes 4–7 are the database's size in pages after a commit, 0 otherwise. */
        const unsigned char *header = data;
        file->commitFramePending = (header[4] | header[5] | header[6] | header[7]) != 0;
        return SQLITE_OK;
    }
    if (file->commitFramePending) {
        file->commitFramePending = 0;
        return flush(file);
    }
    return SQLITE_OK;
}

static int walTruncate(sqlite3_file *pFile, sqlite3_int64 size) {
    WALFile *file = (WALFile *)pFile;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xTruncate(file->real, size);
}

static int walSync(sqlite3_file *pFile, int flags) {
    WALFile *file = (WALFile *)pFile;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xSync(file->real, flags);
}

static int walFileSize(sqlite3_file *pFile, sqlite3_int64 *size) {
    WALFile *file = (WALFile *)pFile;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xFileSize(file->real, size);
}

static int walLock(sqlite3_file *pFile, int level) {
    WALFile *file = (WALFile *)pFile;
    return file->real->pMethods->xLock(file->real, level);
}

static int walUnlock(sqlite3_file *pFile, int level) {
    WALFile *file = (WALFile *)pFile;
    return file->real->pMethods->xUnlock(file->real, level);
}

static int walCheckReservedLock(sqlite3_file *pFile, int *out) {
    WALFile *file = (WALFile *)pFile;
    return file->real->pMethods->xCheckReservedLock(file->real, out);
}

static int walFileControl(sqlite3_file *pFile, int op, void *arg) {
    WALFile *file = (WALFile *)pFile;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xFileControl(file->real, op, arg);
}

static int walSectorSize(sqlite3_file *pFile) {
    WALFile *file = (WALFile *)pFile;
    return file->real->pMethods->xSectorSize(file->real);
}

static int walDeviceCharacteristics(sqlite3_file *pFile) {
    WALFile *file = (WALFile *)pFile;
    return file->real->pMethods->xDeviceCharacteristics(file->real);
}

/** Version 1: a WAL file is never mapped and has no shared memory of its own. */
static const sqlite3_io_methods walMethods = {
    1, walClose, walRead, walWrite, walTruncate, walSync, walFileSize, walLock, walUnlock, walCheckReservedLock,
    walFileControl, walSectorSize, walDeviceCharacteristics,
};

/** Where the default VFS's file starts inside a WALFile (8-byte aligned). */
static size_t realOffset(void) {
    return (sizeof(WALFile) + 7) & ~(size_t)7;
}

static int vfsOpen(sqlite3_vfs *self, const char *name, sqlite3_file *pFile, int flags, int *outFlags) {
    (void)self;
    if (!(flags & SQLITE_OPEN_WAL)) return underlying->xOpen(underlying, name, pFile, flags, outFlags);
    WALFile *file = (WALFile *)pFile;
    memset(file, 0, sizeof(WALFile));
    file->real = (sqlite3_file *)((char *)pFile + realOffset());
    int rc = underlying->xOpen(underlying, name, file->real, flags, outFlags);
    file->base.pMethods = rc == SQLITE_OK ? &walMethods : NULL;
    return rc;
}

static int vfsDelete(sqlite3_vfs *self, const char *name, int syncDir) {
    (void)self;
    return underlying->xDelete(underlying, name, syncDir);
}

static int vfsAccess(sqlite3_vfs *self, const char *name, int flags, int *out) {
    (void)self;
    return underlying->xAccess(underlying, name, flags, out);
}

static int vfsFullPathname(sqlite3_vfs *self, const char *name, int size, char *out) {
    (void)self;
    return underlying->xFullPathname(underlying, name, size, out);
}

static void *vfsDlOpen(sqlite3_vfs *self, const char *name) {
    (void)self;
    return underlying->xDlOpen(underlying, name);
}

static void vfsDlError(sqlite3_vfs *self, int size, char *out) {
    (void)self;
    underlying->xDlError(underlying, size, out);
}

static void (*vfsDlSym(sqlite3_vfs *self, void *handle, const char *symbol))(void) {
    (void)self;
    return underlying->xDlSym(underlying, handle, symbol);
}

static void vfsDlClose(sqlite3_vfs *self, void *handle) {
    (void)self;
    underlying->xDlClose(underlying, handle);
}

static int vfsRandomness(sqlite3_vfs *self, int size, char *out) {
    (void)self;
    return underlying->xRandomness(underlying, size, out);
}

static int vfsSleep(sqlite3_vfs *self, int microseconds) {
    (void)self;
    return underlying->xSleep(underlying, microseconds);
}

static int vfsCurrentTime(sqlite3_vfs *self, double *out) {
    (void)self;
    return underlying->xCurrentTime(underlying, out);
}

static int vfsGetLastError(sqlite3_vfs *self, int size, char *out) {
    (void)self;
    return underlying->xGetLastError ? underlying->xGetLastError(underlying, size, out) : 0;
}

static int vfsCurrentTimeInt64(sqlite3_vfs *self, sqlite3_int64 *out) {
    (void)self;
    return underlying->xCurrentTimeInt64(underlying, out);
}

static int registered = -1;

static void registerOnce(void) {
    underlying = sqlite3_vfs_find(NULL);
    if (underlying == NULL || underlying->iVersion < 2 || underlying->xCurrentTimeInt64 == NULL) {
        registered = SQLITE_ERROR;
        return;
    }
    int size = (int)realOffset() + underlying->szOsFile;
    vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = size > underlying->szOsFile ? size : underlying->szOsFile,
        .mxPathname = underlying->mxPathname,
        .zName = CSQLITEWAL_VFS_NAME,
        .xOpen = vfsOpen,
        .xDelete = vfsDelete,
        .xAccess = vfsAccess,
        .xFullPathname = vfsFullPathname,
        .xDlOpen = vfsDlOpen,
        .xDlError = vfsDlError,
        .xDlSym = vfsDlSym,
        .xDlClose = vfsDlClose,
        .xRandomness = vfsRandomness,
        .xSleep = vfsSleep,
        .xCurrentTime = vfsCurrentTime,
        .xGetLastError = vfsGetLastError,
        .xCurrentTimeInt64 = vfsCurrentTimeInt64,
    };
    registered = sqlite3_vfs_register(&vfs, 0);
}

#include <pthread.h>
static pthread_once_t once = PTHREAD_ONCE_INIT;

int csqlitewal_register(void) {
    pthread_once(&once, registerOnce);
    return registered;
}
