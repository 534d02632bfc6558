#include <group/error.h>

GRP_API const char *grp_strerror(int err)
{
	switch (err) {
	case GRP_OK: return "success";
	case GRP_EINVAL: return "invalid argument";
	case GRP_ENOMEM: return "out of memory or registration resources";
	case GRP_EAGAIN: return "resource temporarily unavailable (back-pressure), retry";
	case GRP_ECONFIG: return "invalid configuration";
	case GRP_EPROVIDER: return "fabric provider unavailable or lacks a required capability";
	case GRP_EFABRIC: return "fabric operation failed";
	case GRP_EPEER: return "peer failed or connection broken";
	case GRP_ETIMEDOUT: return "timed out";
	case GRP_EPROTO: return "protocol error: malformed or unexpected frame";
	case GRP_ESTRANGER: return "frame from a stranger (wrong group or protocol)";
	case GRP_EVERSION: return "unsupported wire version";
	case GRP_EMSGSIZE: return "message too large";
	case GRP_ECLOSED: return "object closed";
	case GRP_EIO: return "I/O error";
	case GRP_ENOSPC: return "no space left";
	case GRP_ENOTFOUND: return "not found";
	case GRP_EBUSY: return "resource busy";
	case GRP_ECALLBACK: return "not allowed from inside a callback";
	case GRP_EMINORITY: return "this member is in a minority partition and stopped";
	case GRP_EEVICTED: return "this member was removed from the group";
	case GRP_EIDTAKEN: return "a member of the view has this node id";
	case GRP_ETRANSFER: return "state transfer failed";
	case GRP_ECORRUPT: return "log corrupt";
	}
	return "unknown error code";
}
