/* fuzz_traffic_har.c — libFuzzer harness for the har traffic reader
 * (loadgen/traffic_*.c), read from memory; the checks are in
 * traffic_harness.h. */
#define FUZZ_TRAFFIC_NAME "har"
#define FUZZ_TRAFFIC_FORMAT LG_TRAFFIC_HAR
#include "traffic_harness.h"
