/* The spec that log_enabled filters lines by, chosen among its sources in
 * the order log.h gives. */
#ifndef GRP_LOG_FILTER_H
#define GRP_LOG_FILTER_H

#include "log_spec.h"

/* The spec of the configuration last applied (config_apply_log_level). */
void log_filter_set_config(const struct log_spec *spec);

#endif
