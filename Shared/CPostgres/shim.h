#pragma once
#include <postgresql/libpq-fe.h>

/** A notice processor that drops server NOTICEs (e.g. "relation already exists, skipping")
 *  instead of printing them to stderr. */
static inline void cpostgres_ignore_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}
/** Installs `cpostgres_ignore_notice` on a connection. */
static inline void cpostgres_silence_notices(PGconn *conn) {
    PQsetNoticeProcessor(conn, cpostgres_ignore_notice, 0);
}
