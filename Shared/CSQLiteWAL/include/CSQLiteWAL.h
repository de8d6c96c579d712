#pragma once

/**
 * The name of the VFS registered by csqlitewal_register(): pass it to sqlite3_open_v2 as zVfs.
 *
 * It is the default VFS ("unix") for every file but a connection's WAL, whose appended frames
 * it gathers in memory and hands to the file in one write per commit instead of two writes per
 * frame (its 24-byte header, then its page). See WALWriteBuffer.c.
 */
#define CSQLITEWAL_VFS_NAME "ocorrencias-wal"

/**
 * Registers the VFS named CSQLITEWAL_VFS_NAME over the default one (not as the default), once
 * per process; later calls return the first call's result.
 * @return SQLITE_OK (0), or SQLite's error code when it cannot be registered.
 */
int csqlitewal_register(void);
