#!/bin/sh
# A whole single-node Kubernetes 1.20 cluster in one Docker-in-Docker node without --privileged
# (tests/testbed/cluster.py starts it with the flags of tests/testbed/nodes.py): cgroup v1
# hierarchies of its own as node-entrypoint.sh makes them, dockerd (also on /sock/docker.sock, a
# folder the host mounts), then etcd, kube-apiserver (on 0.0.0.0:6443: the host reaches it at this
# container's address), kube-controller-manager, kube-scheduler, the kubelet (dockershim on this
# dockerd) and kube-proxy (iptables mode), each logging to /var/log/kube/NAME.log, and a small
# cluster DNS (dnsmasq: Services by name, see below).
# Mounted by cluster.py, read-only: the binaries of `scripts/build-images kube` at /opt/kubernetes
# (with the pod sandbox's `pause`), the host's etcd at /usr/local/bin/etcd. Environment:
# NETRA_KUBE_TOKEN (the user `admin`, in system:masters) and NETRA_KUBE_USER_TOKEN (the user
# `netra`, in no group), the bearer tokens the API server accepts (made up when unset).
# Writes /var/lib/kube/ready when every component has been started.
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

K=/opt/kubernetes
STATE=/var/lib/kube
LOGS=/var/log/kube
PODS=10.244.0.0/16  # the inner docker bridge, where the pods are (no CNI)
GATEWAY=10.244.0.1  # this node on that bridge: the pods' nameserver
NODE=$(hostname)
IP=$(ip -4 -o addr show dev eth0 | awk '{ split($4, a, "/"); print a[1]; exit }')
mkdir -p /sock $STATE $LOGS /var/lib/kubelet
export PATH=$K:$PATH
random() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
TOKEN=${NETRA_KUBE_TOKEN:-$(random)}
USER_TOKEN=${NETRA_KUBE_USER_TOKEN:-$(random)}
[ -s /etc/machine-id ] || random > /etc/machine-id  # the kubelet reports it
fail() { echo "kube-node: $*" >&2; exit 1; }
# wait_for SECONDS WHAT CMD...: until CMD succeeds.
wait_for() {
    n=$(( $1 * 5 )); what=$2; shift 2
    until "$@" >/dev/null 2>&1; do
        n=$((n - 1)); [ $n -gt 0 ] || fail "$what did not come up"
        sleep 0.2
    done
}

# Pod traffic that leaves through the bridge and comes back to it goes through iptables (Service
# addresses); this network namespace's own setting, never the host's.
[ -w /proc/sys/net/bridge/bridge-nf-call-iptables ] && echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables
# (--userland-proxy=false: the bridge sends a pod's packets back to it, so a pod reaches itself
# through its own Service.)
dockerd --storage-driver=overlay2 --mtu=1400 --bip=$GATEWAY/16 \
    --userland-proxy=false --host unix:///var/run/docker.sock --host unix:///sock/docker.sock > $LOGS/dockerd.log 2>&1 &
wait_for 60 dockerd docker version

# The pod sandbox's image, from the mounted pause binary (no registry).
tar -C $K -c pause | docker import --change 'ENTRYPOINT ["/pause"]' - netra-testbed/pause:3.2 > /dev/null

etcd --data-dir /var/lib/etcd --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 > $LOGS/etcd.log 2>&1 &

printf '%s,admin,admin,system:masters\n%s,netra,netra\n' "$TOKEN" "$USER_TOKEN" > $STATE/tokens.csv
openssl genrsa -out $STATE/sa.key 2048 2> /dev/null
cat > $STATE/kubeconfig <<EOF
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: "$TOKEN"}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
EOF
kube-apiserver --etcd-servers=http://127.0.0.1:2379 --bind-address=0.0.0.0 --secure-port=6443 --insecure-port=0 \
    --advertise-address="$IP" --cert-dir=$STATE/certs --token-auth-file=$STATE/tokens.csv --authorization-mode=Node,RBAC \
    --service-account-key-file=$STATE/sa.key --service-account-signing-key-file=$STATE/sa.key \
    --service-account-issuer=https://kubernetes.default.svc --service-cluster-ip-range=10.96.0.0/16 \
    --service-node-port-range=30000-32767 > $LOGS/kube-apiserver.log 2>&1 &
wait_for 60 "the API server's certificate" test -s $STATE/certs/apiserver.crt

kube-controller-manager --kubeconfig=$STATE/kubeconfig --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file=$STATE/sa.key --root-ca-file=$STATE/certs/apiserver.crt \
    --enable-hostpath-provisioner --bind-address=127.0.0.1 --port=0 > $LOGS/kube-controller-manager.log 2>&1 &
kube-scheduler --kubeconfig=$STATE/kubeconfig --leader-elect=false --bind-address=127.0.0.1 --port=0 \
    > $LOGS/kube-scheduler.log 2>&1 &

# The kubelet would set six kernel-wide sysctls (vm.overcommit_memory, kernel.panic, ...): here they
# are the host's. It runs in a mount namespace of its own where each of them that differs reads as
# the value it wants, so it writes none. /var/lib/kubelet is shared with that namespace (the
# volumes it mounts there are what dockerd gives the pods); /proc there is private to it.
mount --bind /var/lib/kubelet /var/lib/kubelet
mount --make-rshared /var/lib/kubelet
mkdir -p $STATE/sysctl
# shellcheck disable=SC2016
unshare --mount --propagation unchanged sh -c '
    set -e
    mount --make-rprivate /proc
    for setting in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
                   kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
        name=${setting%=*} value=${setting#*=}
        [ "$(cat /proc/sys/$name)" = "$value" ] && continue
        file=$0/$(echo "$name" | tr / .)
        echo "$value" > "$file"
        mount --bind "$file" /proc/sys/$name
    done
    exec "$@"' $STATE/sysctl \
    kubelet --kubeconfig=$STATE/kubeconfig --container-runtime=docker --docker-endpoint=unix:///var/run/docker.sock \
        --hostname-override="$NODE" --node-ip="$IP" --pod-infra-container-image=netra-testbed/pause:3.2 \
        --cgroups-per-qos=false --enforce-node-allocatable= --cgroup-driver=cgroupfs --fail-swap-on=false \
        --oom-score-adj=0 --eviction-hard= --image-gc-high-threshold=100 --image-gc-low-threshold=99 \
        --cluster-dns=$GATEWAY --cluster-domain=cluster.local \
        --read-only-port=0 --root-dir=/var/lib/kubelet --cert-dir=/var/lib/kubelet/pki > $LOGS/kubelet.log 2>&1 &

kube-proxy --kubeconfig=$STATE/kubeconfig --proxy-mode=iptables --hostname-override="$NODE" --cluster-cidr=$PODS \
    --conntrack-max-per-core=0 --conntrack-min=0 --conntrack-tcp-timeout-established=0 \
    --conntrack-tcp-timeout-close-wait=0 --oom-score-adj=0 --metrics-bind-address=127.0.0.1:10249 \
    --healthz-bind-address=127.0.0.1:10256 --iptables-min-sync-period=0s > $LOGS/kube-proxy.log 2>&1 &

# Cluster DNS, cheaply: dnsmasq on the pods' gateway answers SERVICE.NAMESPACE.svc.cluster.local
# (and so, through the pods' search path, SERVICE and SERVICE.NAMESPACE): a Service's ClusterIP,
# or for a headless one the addresses of its ready pods (its Endpoints), as CoreDNS would. The
# hosts file is rewritten at every change of an Endpoints object (a watch), so a name resolves
# moments after its pods are ready; other names go to this node's resolver. A name asked for
# before it is listed is NXDOMAIN, not cached.
mkdir -p $STATE/dns
: > $STATE/dns/services
dnsmasq --keep-in-foreground --log-facility=- --listen-address=$GATEWAY --bind-dynamic --no-hosts \
    --hostsdir=$STATE/dns --local=/cluster.local/ --domain-needed --no-negcache > $LOGS/dnsmasq.log 2>&1 &
# api PATH [CURL-ARGS...]: a request to the API server as admin.
api() { path=$1; shift; curl -sfk --max-time 10 -H "Authorization: Bearer $TOKEN" "$@" "https://127.0.0.1:6443$path"; }
names() {
    api /api/v1/services > $STATE/services.json && api /api/v1/endpoints > $STATE/endpoints.json || return 1
    jq -r --slurpfile endpoints $STATE/endpoints.json '
        (.items | map(select(.spec.clusterIP == "None")) | map("\(.metadata.namespace)/\(.metadata.name)")) as $headless
        | (.items[] | select(.spec.clusterIP != "None" and (.spec.clusterIP // "") != "")
                    | "\(.spec.clusterIP) \(.metadata.name).\(.metadata.namespace).svc.cluster.local"),
          ($endpoints[0].items[] | select("\(.metadata.namespace)/\(.metadata.name)" as $k | $headless | index($k))
                    | .metadata as $m | .subsets[]?.addresses[]?
                    | "\(.ip) \($m.name).\($m.namespace).svc.cluster.local")' \
        $STATE/services.json | sort > $STATE/services.hosts || return 1
    cmp -s $STATE/services.hosts $STATE/dns/services || mv $STATE/services.hosts $STATE/dns/services  # dnsmasq rereads it
}
while :; do  # each watch lasts until the server ends it; a line is a change
    names
    api "/api/v1/endpoints?watch=1&timeoutSeconds=300" --no-buffer --max-time 310 | while read -r _; do names; done
    sleep 0.2
done &

# Claims get volumes: the default StorageClass is the controller-manager's host-path provisioner
# (directories in this node; for one node and for tests only).
wait_for 60 "the API server" api /readyz
cat > $STATE/storageclass.json <<'EOF'
{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "provisioner": "kubernetes.io/host-path",
 "metadata": {"name": "hostpath", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}
EOF
wait_for 30 "the default StorageClass" api /apis/storage.k8s.io/v1/storageclasses -X POST \
    -H "Content-Type: application/json" --data-binary @$STATE/storageclass.json

touch $STATE/ready
wait
