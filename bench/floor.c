/* The floor for the import benchmark: the same event rows inserted with one
 * prepared statement in one transaction, WAL and synchronous=NORMAL like the
 * archive, no JSON parsing. Rows come from a file of length-prefixed fields
 * (uint32 little-endian length, 0xFFFFFFFF for NULL), eight fields a row:
 * session_id, seq, turn, type, content, call_id, name, payload.
 * usage: floor ROWS_FILE DB */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_field(FILE *f, char **buf, size_t *cap, uint32_t *len) {
    if (fread(len, 4, 1, f) != 1) return 0;
    if (*len == 0xFFFFFFFFu) return 1;
    if (*len + 1 > *cap) { *cap = *len + 1; *buf = realloc(*buf, *cap); }
    if (*len && fread(*buf, 1, *len, f) != *len) return 0;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: floor ROWS_FILE DB\n"); return 64; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    sqlite3 *db;
    if (sqlite3_open(argv[2], &db) != SQLITE_OK) { fprintf(stderr, "%s\n", sqlite3_errmsg(db)); return 1; }
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE events(session_id TEXT, seq INT, turn INT, type TEXT, content TEXT,"
                     " call_id TEXT, name TEXT, payload TEXT, PRIMARY KEY(session_id, seq));", 0, 0, 0);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?,?,?,?,?,?,?,?)", -1, &st, 0);
    sqlite3_exec(db, "BEGIN", 0, 0, 0);
    char *bufs[8] = {0}; size_t caps[8] = {0}; uint32_t lens[8];
    long rows = 0;
    for (;;) {
        int i;
        for (i = 0; i < 8; i++) if (!read_field(f, &bufs[i], &caps[i], &lens[i])) break;
        if (i < 8) break;
        for (i = 0; i < 8; i++) {
            if (lens[i] == 0xFFFFFFFFu) sqlite3_bind_null(st, i + 1);
            else if (i == 1 || i == 2) { bufs[i][lens[i]] = 0; sqlite3_bind_int64(st, i + 1, atoll(bufs[i])); }
            else sqlite3_bind_text(st, i + 1, bufs[i], (int)lens[i], SQLITE_STATIC);
        }
        if (sqlite3_step(st) != SQLITE_DONE) { fprintf(stderr, "%s\n", sqlite3_errmsg(db)); return 1; }
        sqlite3_reset(st);
        rows++;
    }
    sqlite3_exec(db, "COMMIT", 0, 0, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    printf("%ld rows\n", rows);
    return 0;
}
