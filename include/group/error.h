/* libgroup's one error vocabulary.
 *
 * Every call returns 0 on success or one of the negative GRP_E* codes below.
 * GRP_EAGAIN is used only for back-pressure: the call may succeed if retried
 * after progress. A call that fails never invokes its callback and never sets
 * its output parameters. */
#ifndef GROUP_ERROR_H
#define GROUP_ERROR_H

#include <group/export.h>

#ifdef __cplusplus
extern "C" {
#endif

enum grp_error {
	GRP_OK = 0,
	GRP_EINVAL = -1,     /* an argument is invalid (NULL, out of range) */
	GRP_ENOMEM = -2,     /* memory or registration resources exhausted */
	GRP_EAGAIN = -3,     /* back-pressure: retry after progress */
	GRP_ECONFIG = -4,    /* bad configuration key or value (see grp_config_error) */
	GRP_EPROVIDER = -5,  /* fabric provider missing or lacking a required capability */
	GRP_EFABRIC = -6,    /* a libfabric call failed (details logged) */
	GRP_EPEER = -7,      /* the peer has failed or its connection broke */
	GRP_ETIMEDOUT = -8,  /* a bounded wait expired */
	GRP_EPROTO = -9,     /* malformed, truncated or out-of-place frame */
	GRP_ESTRANGER = -10, /* frame from another group or another protocol */
	GRP_EVERSION = -11,  /* peer speaks an unsupported wire version */
	GRP_EMSGSIZE = -12,  /* message or frame larger than the configured limit */
	GRP_ECLOSED = -13,   /* the object was closed or the member has left */
	GRP_EIO = -14,       /* an operating-system I/O call failed (details logged) */
	GRP_ENOSPC = -15,    /* no space left: table, window or disk is full */
	GRP_ENOTFOUND = -16, /* a name (key, member, predicate) does not exist */
	GRP_EBUSY = -17,     /* resource in use by another operation */
	GRP_ECALLBACK = -18, /* the call is not allowed from inside a callback */
	GRP_EMINORITY = -19, /* this member lost sight of a majority of its view: it stopped */
	GRP_EEVICTED = -20,  /* the group removed this member (it was suspected): it stopped */
	GRP_EIDTAKEN = -21,  /* a joiner's node id is a member of the view already */
	GRP_ETRANSFER = -22, /* state transfer failed: its source failed or aborted */
	GRP_ECORRUPT = -23,  /* a log on disk fails its checks where it cannot be repaired */
};

/* A static, human-readable description of an error code (never NULL). */
GRP_API const char *grp_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
