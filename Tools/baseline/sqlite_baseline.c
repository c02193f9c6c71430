// Baselines for Tools/BENCHMARKS.md, measured in the same run as PlanLedger:
//   batch      SOURCE TARGET   copy every row of SOURCE's events table into a fresh TARGET with the same table and
//                              indexes, 1,000 rows per transaction, WAL + synchronous=FULL (P1's baseline: what raw
//                              SQLite costs for the same rows, without validation, hashing or projections)
//   ledger     SOURCE TARGET   copy every row of every table of SOURCE (the log, the Merkle nodes, the stream heads,
//                              the projections) into a fresh TARGET with the same tables and indexes, each row in the
//                              transaction of 1,000 events PlanLedger wrote it in (P1's second baseline: raw SQLite
//                              for everything the ledger stores, without validation, hashing, JSON or domain rules)
//   autocommit TARGET N        N single-row inserts, each its own durable transaction (P2's baseline)
//   scan       SOURCE          step through SOURCE's events in position order on one thread, copying out every
//                              column `verify` reads (P6's context: what SQLite's reading alone costs, with no
//                              hashing; it writes nothing)
// Both use the page cache and checkpoint settings of PlanLedger's writer unless BASELINE_DEFAULT_SETTINGS is set.
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void check(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static const char *schema =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE events (position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL, version INTEGER NOT NULL,"
    " type TEXT NOT NULL, schema_version INTEGER NOT NULL, recorded_at INTEGER NOT NULL, effective_at INTEGER NOT NULL,"
    " actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, actor_organisation TEXT, reason TEXT, correlation_id TEXT,"
    " causation_id TEXT, data TEXT NOT NULL, hash BLOB NOT NULL, UNIQUE (stream, version));"
    "CREATE INDEX events_by_type ON events (type, position);"
    "CREATE INDEX events_by_actor ON events (actor_id, position);"
    "CREATE INDEX events_by_organisation ON events (actor_organisation, position);"
    "CREATE INDEX events_by_recorded_at ON events (recorded_at);";

// The event position whose transaction wrote a row of `table`, as SQL over the table aliased `t`: rows are inserted
// in that order, so each B-tree sees PlanLedger's insertion order (WITHOUT ROWID tables are otherwise scanned in key
// order, which would favour the baseline). Tables not named here (metadata, tokens) go into the first transaction.
static const char *written_at(const char *table) {
    if (strcmp(table, "events") == 0 || strcmp(table, "ownership") == 0 || strcmp(table, "links") == 0)
        return "t.position";
    // A snapshot is written by its own version's event.
    if (strcmp(table, "entity_versions") == 0)
        return "(SELECT position FROM events e WHERE e.stream = t.stream AND e.version = t.version)";
    // A node is stored by the append that completes its subtree: leaf count (idx + 1) * 2^level; positions start at 1.
    if (strcmp(table, "merkle_nodes") == 0) return "(t.idx + 1) << t.level";
    if (strcmp(table, "streams") == 0) return "(SELECT min(position) FROM events e WHERE e.stream = t.stream)";
    return "0";
}

typedef struct {
    sqlite3_stmt *insert;
    int columns;
    long count, next;
    sqlite3_int64 *keys;
    sqlite3_value ***rows;
} table_copy;

// `ledger` mode: see the header.
static int copy_ledger(const char *source_path, sqlite3 *target) {
    sqlite3 *source;
    check(sqlite3_open_v2(source_path, &source, SQLITE_OPEN_READONLY, 0), source, "open source");
    sqlite3_stmt *tables;
    check(sqlite3_prepare_v2(source, "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                             " ORDER BY rowid", -1, &tables, 0), source, "list tables");
    table_copy copies[64];
    int table_count = 0;
    long total_rows = 0;
    sqlite3_int64 last_position = 0;
    while (sqlite3_step(tables) == SQLITE_ROW) {
        if (table_count == 64) {
            fprintf(stderr, "more than 64 tables in %s\n", source_path);
            exit(1);
        }
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        check(sqlite3_exec(target, (const char *)sqlite3_column_text(tables, 1), 0, 0, 0), target, "create table");
        table_copy *copy = &copies[table_count++];
        memset(copy, 0, sizeof *copy);
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT %s, t.* FROM \"%s\" t ORDER BY 1", written_at(name), name);
        sqlite3_stmt *select;
        check(sqlite3_prepare_v2(source, sql, -1, &select, 0), source, sql);
        copy->columns = sqlite3_column_count(select) - 1;
        long capacity = 1024;
        copy->keys = malloc(sizeof(*copy->keys) * capacity);
        copy->rows = malloc(sizeof(*copy->rows) * capacity);
        while (sqlite3_step(select) == SQLITE_ROW) {
            if (copy->count == capacity) {
                capacity *= 2;
                copy->keys = realloc(copy->keys, sizeof(*copy->keys) * capacity);
                copy->rows = realloc(copy->rows, sizeof(*copy->rows) * capacity);
            }
            copy->keys[copy->count] = sqlite3_column_int64(select, 0);
            if (copy->keys[copy->count] > last_position) last_position = copy->keys[copy->count];
            copy->rows[copy->count] = malloc(sizeof(sqlite3_value *) * copy->columns);
            for (int c = 0; c < copy->columns; c++)
                copy->rows[copy->count][c] = sqlite3_value_dup(sqlite3_column_value(select, c + 1));
            copy->count++;
        }
        sqlite3_finalize(select);
        total_rows += copy->count;
        char insert[4096];
        int length = snprintf(insert, sizeof insert, "INSERT INTO \"%s\" VALUES (?", name);
        for (int c = 1; c < copy->columns; c++) length += snprintf(insert + length, sizeof insert - length, ",?");
        snprintf(insert + length, sizeof insert - length, ")");
        check(sqlite3_prepare_v2(target, insert, -1, &copy->insert, 0), target, insert);
    }
    sqlite3_finalize(tables);
    sqlite3_stmt *indexes;
    check(sqlite3_prepare_v2(source, "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL", -1,
                             &indexes, 0), source, "list indexes");
    while (sqlite3_step(indexes) == SQLITE_ROW)
        check(sqlite3_exec(target, (const char *)sqlite3_column_text(indexes, 0), 0, 0, 0), target, "create index");
    sqlite3_finalize(indexes);
    sqlite3_close(source);

    double start = now();
    long transactions = 0;
    for (sqlite3_int64 end = 1000; end - 1000 < last_position || transactions == 0; end += 1000) {
        check(sqlite3_exec(target, "BEGIN IMMEDIATE", 0, 0, 0), target, "begin");
        for (int t = 0; t < table_count; t++) {
            table_copy *copy = &copies[t];
            for (; copy->next < copy->count && copy->keys[copy->next] <= end; copy->next++) {
                for (int c = 0; c < copy->columns; c++) sqlite3_bind_value(copy->insert, c + 1, copy->rows[copy->next][c]);
                check(sqlite3_step(copy->insert), target, "insert");
                sqlite3_reset(copy->insert);
            }
        }
        check(sqlite3_exec(target, "COMMIT", 0, 0, 0), target, "commit");
        transactions++;
    }
    double elapsed = now() - start;
    printf("rows=%ld\nevents=%lld\ntransactions=%ld\nseconds=%.3f\nrows_per_second=%.0f\nevents_per_second=%.0f\n",
           total_rows, (long long)last_position, transactions, elapsed, total_rows / elapsed, last_position / elapsed);
    return 0;
}

/// `scan SOURCE`: the rows verify reads, stepped and copied out as its reading thread does.
static int scan(const char *source_path) {
    sqlite3 *source;
    // Without SQLite's per-call mutex, as PlanLedger opens its connections (SQLITE_OPEN_NOMUTEX).
    check(sqlite3_open_v2(source_path, &source, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, 0), source, "open source");
    sqlite3_stmt *select;
    check(sqlite3_prepare_v2(source,
                             "SELECT position, id, stream, version, type, schema_version, recorded_at, effective_at, "
                             "actor_id, actor_role, actor_organisation, reason, correlation_id, causation_id, data, hash "
                             "FROM events ORDER BY position", -1, &select, 0),
          source, "prepare scan");
    static char copy[1 << 20];
    long rows = 0, bytes = 0;
    double start = now();
    while (sqlite3_step(select) == SQLITE_ROW) {
        for (int column = 0; column < 16; column++) {
            // position, version, schema_version, recorded_at, effective_at are integers; the rest text or blob.
            if (column == 0 || column == 3 || column == 5 || column == 6 || column == 7) {
                bytes += sqlite3_column_int64(select, column) & 1;
                continue;
            }
            const void *value = sqlite3_column_blob(select, column);
            int count = sqlite3_column_bytes(select, column);
            if (value && count <= (int)sizeof copy) memcpy(copy, value, count);
            bytes += count;
        }
        rows++;
    }
    double seconds = now() - start;
    sqlite3_finalize(select);
    sqlite3_close(source);
    printf("rows=%ld\nseconds=%.3f\nrows_per_second=%.0f\nbytes=%ld\n", rows, seconds, rows / seconds, bytes);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s batch SOURCE TARGET | ledger SOURCE TARGET | autocommit TARGET N | scan SOURCE\n",
                argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "scan") == 0) return scan(argv[2]);
    sqlite3 *target;
    int copies_source = strcmp(argv[1], "batch") == 0 || strcmp(argv[1], "ledger") == 0;
    if (copies_source && argc < 4) {
        fprintf(stderr, "usage: %s %s SOURCE TARGET\n", argv[0], argv[1]);
        return 2;
    }
    const char *target_path = copies_source ? argv[3] : argv[2];
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", target_path, suffixes[i]);
        remove(path);
    }
    check(sqlite3_open(target_path, &target), target, "open target");
    if (strcmp(argv[1], "ledger") == 0) {
        check(sqlite3_exec(target, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", 0, 0, 0), target, "journal");
        if (getenv("BASELINE_DEFAULT_SETTINGS") == NULL)
            check(sqlite3_exec(target, "PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=4000;", 0, 0, 0), target,
                  "settings");
        int status = copy_ledger(argv[2], target);
        sqlite3_close(target);
        return status;
    }
    check(sqlite3_exec(target, schema, 0, 0, 0), target, "schema");
    // The page cache and checkpoint interval PlanLedger's writer connection uses (Database.Options.writer), so the
    // ratio compares the work done, not the settings.
    if (getenv("BASELINE_DEFAULT_SETTINGS") == NULL)
        check(sqlite3_exec(target, "PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=4000;", 0, 0, 0), target, "settings");
    sqlite3_stmt *insert;
    check(sqlite3_prepare_v2(target, "INSERT INTO events VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)", -1, &insert, 0),
          target, "prepare insert");

    if (strcmp(argv[1], "batch") == 0) {
        sqlite3 *source;
        check(sqlite3_open_v2(argv[2], &source, SQLITE_OPEN_READONLY, 0), source, "open source");
        sqlite3_stmt *select;
        check(sqlite3_prepare_v2(source, "SELECT * FROM events ORDER BY position", -1, &select, 0), source, "select");
        // Read everything first, so only the inserts are timed.
        long capacity = 1 << 20, count = 0;
        sqlite3_value ***rows = malloc(sizeof(*rows) * capacity);
        while (sqlite3_step(select) == SQLITE_ROW) {
            if (count == capacity) rows = realloc(rows, sizeof(*rows) * (capacity *= 2));
            rows[count] = malloc(sizeof(sqlite3_value *) * 16);
            for (int c = 0; c < 16; c++) rows[count][c] = sqlite3_value_dup(sqlite3_column_value(select, c));
            count++;
        }
        double start = now();
        for (long i = 0; i < count; i++) {
            if (i % 1000 == 0) check(sqlite3_exec(target, "BEGIN IMMEDIATE", 0, 0, 0), target, "begin");
            for (int c = 0; c < 16; c++) sqlite3_bind_value(insert, c + 1, rows[i][c]);
            check(sqlite3_step(insert), target, "insert");
            sqlite3_reset(insert);
            if (i % 1000 == 999 || i == count - 1) check(sqlite3_exec(target, "COMMIT", 0, 0, 0), target, "commit");
        }
        double elapsed = now() - start;
        printf("rows=%ld\nseconds=%.3f\nrows_per_second=%.0f\n", count, elapsed, count / elapsed);
    } else {
        long n = atol(argv[3]);
        double start = now();
        char id[64], stream[64];
        for (long i = 0; i < n; i++) {
            snprintf(id, sizeof id, "id-%ld", i);
            snprintf(stream, sizeof stream, "measure/M-%ld", i % 10);
            sqlite3_bind_int64(insert, 1, i + 1);
            sqlite3_bind_text(insert, 2, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(insert, 3, stream, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(insert, 4, i / 10 + 1);
            sqlite3_bind_text(insert, 5, "MeasureReadingRecorded", -1, SQLITE_STATIC);
            sqlite3_bind_int(insert, 6, 1);
            sqlite3_bind_int64(insert, 7, 1700000000000 + i);
            sqlite3_bind_int64(insert, 8, 1700000000000 + i);
            sqlite3_bind_text(insert, 9, "bench", -1, SQLITE_STATIC);
            sqlite3_bind_text(insert, 10, "admin", -1, SQLITE_STATIC);
            for (int c = 11; c <= 14; c++) sqlite3_bind_null(insert, c);
            sqlite3_bind_text(insert, 15, "{\"at\":\"2030-01-01\",\"value\":1}", -1, SQLITE_STATIC);
            sqlite3_bind_blob(insert, 16, id, 32, SQLITE_TRANSIENT);
            check(sqlite3_step(insert), target, "insert");  // autocommit: one durable transaction per row
            sqlite3_reset(insert);
        }
        double elapsed = now() - start;
        printf("commits=%ld\nseconds=%.3f\ncommits_per_second=%.0f\n", n, elapsed, n / elapsed);
    }
    sqlite3_close(target);
    return 0;
}
