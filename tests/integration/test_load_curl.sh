#!/usr/bin/env bash
# test_load_curl.sh — test_load.sh again, every load through the libcurl
# transport (--engine curl) instead of the native HTTP/1.1 one.
LOAD_ENGINE=curl exec bash "$(dirname "$0")/test_load.sh"
