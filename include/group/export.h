/* Symbol visibility for libgroup's public API.
 *
 * The library is built with -fvisibility=hidden; only declarations marked
 * GRP_API are exported, and lib/libgroup.map pins them to a version node. */
#ifndef GROUP_EXPORT_H
#define GROUP_EXPORT_H

#if defined(GRP_BUILDING_LIBRARY) && defined(__GNUC__)
#define GRP_API __attribute__((visibility("default")))
#else
#define GRP_API
#endif

#endif
