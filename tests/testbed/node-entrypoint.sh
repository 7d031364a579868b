#!/bin/sh
# A Docker-in-Docker node without --privileged (see tests/testbed/nodes.py for the flags): cgroup
# v1 hierarchies of its own, then dockerd, also on /sock/docker.sock (a folder the host mounts),
# so that the host's CLI and netra-stack reach this node's engine. Arguments go to dockerd.
set -e
mount -o remount,rw /sys
umount -l /sys/fs/cgroup 2>/dev/null || true
mount -t tmpfs cgroup /sys/fs/cgroup
for controller in blkio cpu cpuacct cpuset devices freezer memory pids; do
    mkdir -p /sys/fs/cgroup/$controller
    mount -t cgroup -o $controller cgroup /sys/fs/cgroup/$controller
done
mkdir -p /sys/fs/cgroup/systemd
mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
mkdir -p /sock
exec dockerd --storage-driver=overlay2 --mtu=1400 --host unix:///var/run/docker.sock --host unix:///sock/docker.sock "$@"
