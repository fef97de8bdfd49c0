#!/bin/sh
# captrail record of root chmod-ing and chown-ing a file owned by uid 65534:
# the profile grants CAP_FOWNER and CAP_CHOWN, never CAP_SYS_ADMIN.
# shellcheck source=SCRIPTDIR/../guest/lib.sh
. /matrix/lib.sh

ct_run setup sh -c "touch $CT_DIR/owned && chown 65534:65534 $CT_DIR/owned"
ct_run record captrail_hook record -o json --output "$CT_DIR/profile.json" -- \
	sh -c "chmod 600 $CT_DIR/owned && chown 0:0 $CT_DIR/owned"
ct_run profile cat "$CT_DIR/profile.json"
