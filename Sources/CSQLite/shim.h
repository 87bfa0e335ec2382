#include <sqlite3.h>

/* sqlite3_db_config is variadic, which Swift does not import: one shim per
   form this project uses. */
static inline int archive_sqlite3_db_config_flag(sqlite3 *db, int op, int on) {
    return sqlite3_db_config(db, op, on, (int *)0);
}
