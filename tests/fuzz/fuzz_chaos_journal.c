/* fuzz_chaos_journal.c — libFuzzer harness for the chaos journal reader
 * (chaos/journal.c), the one parser in chaos/ of input it did not make
 * itself in this process: a journal read back from the state directory,
 * possibly torn or edited. Also feeds the bytes to the /proc/PID/stat
 * parser. Invariants (abort() on violation):
 *   - ch_jfile_read_fd never crashes; on success every entry holds a JSON
 *     object and a positive-or-zero sequence number;
 *   - ch_op_summary of every op of every entry yields a NUL-terminated line;
 *   - the stat parser either fails with -EINVAL or reports a state byte.
 * Nothing is reverted or checked against the system. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "chaos/ch_internal.h"

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz_chaos_journal: invariant failed at line %d: %s\n",      \
                    __LINE__, #cond);                                                     \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("journal", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ch_jfile jf;
    sq_err err;
    /* Through the descriptor, as the watchdog reads: a path under
     * /proc/self/fd is a symlink, which ch_jfile_read refuses (O_NOFOLLOW). */
    if (ch_jfile_read_fd(fd, path, &jf, &err) == 0) {
        for (size_t i = 0; i < jf.n_entries; i++) {
            const ch_jentry *e = &jf.entries[i];
            CHECK(e->fault != NULL);
            json_t *ops = json_object_get(e->fault, "ops");
            for (size_t k = 0; k < json_array_size(ops); k++) {
                char line[256];
                line[sizeof line - 1] = 'x';
                ch_op_summary(json_array_get(ops, k), line, sizeof line);
                CHECK(memchr(line, '\0', sizeof line) != NULL);
            }
        }
        ch_jfile_release(&jf);
    }
    close(fd);

    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    unsigned long long start = 0;
    char st = 0;
    int rc = ch_parse_stat_start(text, &start, &st);
    CHECK(rc == 0 || rc == -EINVAL);
    free(text);
    return 0;
}
