/* commands.h — one entry point per subcommand; each parses its own flags
 * (argv[0] is the subcommand name) and returns a process exit code
 * (SQ_EXIT_* in core/err.h). */
#ifndef SQ_CLI_COMMANDS_H
#define SQ_CLI_COMMANDS_H

int cmd_target(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_chaos(int argc, char **argv);
int cmd_traffic(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);

#endif
