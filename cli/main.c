/* main.c — squall's entry point: dispatches the subcommand by name. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "core/core.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"load", cmd_load, "capacity test: open or closed model load; writes a run directory"},
    {"chaos", cmd_chaos, "one fault with a TTL (kill, stop, link-down, drop, ...); status; recover"},
    {"report", cmd_report, "evaluate objectives and write summary.json, report.html, junit.xml"},
    {"traffic", cmd_traffic, "inspect a traffic file: peak rps and when, duration, methods, users, routes"},
    {"target", cmd_target, "built-in demo service (latency, errors, stalls, writable store)"},
    {"cleanup", cmd_cleanup, "delete what a run's ledger says it created"},
};

/* Prints the top-level usage to out. */
static void print_usage(FILE *out)
{
    fprintf(out, "usage: squall <command> [options]\n\n"
                 "squall runs capacity tests and chaos drills of HTTP services.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-8s %s\n", "help", "show this list, or `squall help COMMAND` for one command");
    fprintf(out, "\nRun 'squall COMMAND --help' for a command's options. "
                 "Exit codes: 0 ok, 1 objective failed, 2 usage or input error,\n"
                 "3 run-time failure, 4 aborted.\n");
}

/* Returns the command called name, or NULL. */
static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return SQ_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("squall %s\n", SQUALL_VERSION);
        return SQ_EXIT_OK;
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        (strcmp(name, "help") == 0 && argc == 2)) {
        print_usage(stdout);
        return SQ_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        const struct command *cmd = find_command(argv[2]);
        if (!cmd) {
            fprintf(stderr, "squall: unknown command '%s'; run 'squall help' for the list\n", argv[2]);
            return SQ_EXIT_USAGE;
        }
        char *help_argv[] = {argv[2], "--help", NULL};
        return cmd->run(2, help_argv);
    }
    const struct command *cmd = find_command(name);
    if (!cmd) {
        fprintf(stderr, "squall: unknown command '%s'; run 'squall help' for the list\n", name);
        return SQ_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
