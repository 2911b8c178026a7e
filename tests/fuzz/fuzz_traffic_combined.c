/* fuzz_traffic_combined.c — libFuzzer harness for the combined traffic reader
 * (loadgen/traffic_*.c), read from memory; the checks are in
 * traffic_harness.h. */
#define FUZZ_TRAFFIC_NAME "combined"
#define FUZZ_TRAFFIC_FORMAT LG_TRAFFIC_COMBINED
#include "traffic_harness.h"
