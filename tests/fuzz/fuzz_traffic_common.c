/* fuzz_traffic_common.c — libFuzzer harness for the common traffic reader
 * (loadgen/traffic_*.c), read from memory; the checks are in
 * traffic_harness.h. */
#define FUZZ_TRAFFIC_NAME "common"
#define FUZZ_TRAFFIC_FORMAT LG_TRAFFIC_COMMON
#include "traffic_harness.h"
