/* fuzz_traffic_gor.c — libFuzzer harness for the gor traffic reader
 * (loadgen/traffic_*.c), read from memory; the checks are in
 * traffic_harness.h. */
#define FUZZ_TRAFFIC_NAME "gor"
#define FUZZ_TRAFFIC_FORMAT LG_TRAFFIC_GOR
#include "traffic_harness.h"
