/* fuzz_traffic_jsonl.c — libFuzzer harness for the jsonl traffic reader
 * (loadgen/traffic_*.c), read from memory; the checks are in
 * traffic_harness.h. */
#define FUZZ_TRAFFIC_NAME "jsonl"
#define FUZZ_TRAFFIC_FORMAT LG_TRAFFIC_JSONL
#include "traffic_harness.h"
