/* core.h — the public header of squall's core library: clocks, errors,
 * logging, value parsers, the log-linear histogram and the run directory. */
#ifndef SQ_CORE_H
#define SQ_CORE_H

#include "addr.h"
#include "clock.h"
#include "err.h"
#include "hist.h"
#include "json.h"
#include "limits.h"
#include "log.h"
#include "parse.h"
#include "rundir.h"

#define SQUALL_VERSION "0.1.0"

#endif
