#!/bin/sh
# prepare-volumes.sh: the init container of both peoplesync pods (the reconcile CronJob and
# the serve Deployment). It runs as the same non-root user as peoplesync (uid 10001) and
# never touches the database.
#
# 1. Secrets. peoplesync refuses a secret file that its group or others may read. A Secret
#    volume cannot give that to a non-root process: its files belong to root, and with the
#    pod's fsGroup Kubernetes adds group read to them (0400 becomes 0440). So the Secret is
#    mounted with mode 0440, group 10001 (readable here), and each file is copied to a
#    memory-backed emptyDir as 0400, owned by uid 10001: the paths the config's *_file keys
#    name. Nothing of it reaches a disk.
# 2. The Teams service user's refresh token lives on the volume, not in the Secret:
#    peoplesync rewrites it whenever Microsoft rotates it. The Secret's copy (key
#    teams-service-user.token, optional) only seeds the volume once; after that the
#    volume's file is the live one. `peoplesync login teams` in the serve pod writes it too.
# 3. The directories the config names: the database (peoplesync creates it too, mode 0700)
#    and the event spool (check-config requires it to exist).
set -eu
umask 077

in=/run/peoplesync/secrets-in
out=/run/peoplesync/secrets
state=/var/lib/peoplesync

for f in "$in"/*; do
	[ -e "$f" ] || continue
	name=${f##*/}
	[ "$name" = teams-service-user.token ] && continue
	install -m 0400 "$f" "$out/$name"
done

if [ -f "$in/teams-service-user.token" ] && [ ! -e "$state/teams-service-user.token" ]; then
	install -m 0600 "$in/teams-service-user.token" "$state/teams-service-user.token"
fi

mkdir -p "$state/db" "$state/spool"
chmod 0700 "$state/db"
chmod 0770 "$state/spool"
