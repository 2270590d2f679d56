#ifndef DOCSEND_SYNC_CSQLITE_SHIM_H
#define DOCSEND_SYNC_CSQLITE_SHIM_H

#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import: sqlite3 copies the bound bytes before returning.
static inline sqlite3_destructor_type CSQLite_transient(void) { return SQLITE_TRANSIENT; }

#endif
