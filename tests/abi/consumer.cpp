// A C++ program that includes every public header and links the shared
// library: the headers must be valid C++ and need nothing internal.
#include <group/config.h>
#include <group/error.h>
#include <group/export.h>
#include <group/group.h>
#include <group/rdmc.h>
#include <group/sst.h>

#include <cstring>

int main()
{
	grp_config *cfg = nullptr;
	if (grp_config_new(&cfg) != GRP_OK)
		return 1;
	char provider[32];
	int rc = grp_config_get(cfg, "fabric.provider", provider, sizeof provider);
	grp_config_free(cfg);
	grp_sst_layout layout = {0};
	if (grp_sst_layout_add(&layout, 8, 1) != 0)
		return 1;
	grp_callbacks cb = {};
	cb.size = sizeof cb;
	grp_rdmc_callbacks rcb = {};
	rcb.size = sizeof rcb;
	if (grp_strerror(GRP_ECALLBACK) == nullptr || cb.deliver || rcb.on_message)
		return 1;
	return rc == GRP_OK && std::strcmp(provider, "tcp") == 0 ? 0 : 1;
}
