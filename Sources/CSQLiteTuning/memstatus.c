// SQLite's process-wide settings, made before SQLite initializes (`sqlite3_config` refuses them
// after). Swift cannot call `sqlite3_config`: it is variadic.
//
// Memory statistics off: with them on (SQLite's default) every allocation and free SQLite makes
// takes one global mutex to count bytes, which nothing here reads (no soft heap limit, no
// `sqlite3_memory_used`). The ingest writer allocates a dozen times a statement: the mutex and its
// bookkeeping were about a sixth of its CPU (`IngestBenchmark store`, README).
#include <sqlite3.h>
#include "CSQLiteTuning.h"

static int memstatus_off_result = -1;

// Runs when the binary is loaded, after libsqlite3 (a dependency, so loaded and set up first) and
// before `main`, so before any connection can have initialized SQLite.
__attribute__((constructor)) static void bridge_sqlite_memstatus_off(void) {
    memstatus_off_result = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int bridge_sqlite_memstatus_off_result(void) { return memstatus_off_result; }
