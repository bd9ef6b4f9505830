#ifndef CSQLITETUNING_H
#define CSQLITETUNING_H

/// What `sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0)` answered when this library was loaded:
/// SQLITE_OK (0), or SQLITE_MISUSE when SQLite had already been initialized; -1 if the constructor
/// never ran.
int bridge_sqlite_memstatus_off_result(void);

#endif
