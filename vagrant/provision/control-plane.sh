#!/usr/bin/env bash
# The control-plane node: kubeadm init with the lab's pod CIDR and the bootstrap token the
# Vagrantfile chose (the workers join with it: nothing travels back through a synced folder),
# kubectl for the vagrant user, and the Flannel CNI at a pinned version.
# Env: CONTROL_PLANE_IP, POD_CIDR, FLANNEL_VERSION, JOIN_TOKEN.
set -euo pipefail
: "${CONTROL_PLANE_IP:?}" "${POD_CIDR:?}" "${FLANNEL_VERSION:?}" "${JOIN_TOKEN:?}"

if [ ! -f /etc/kubernetes/admin.conf ]; then
  kubeadm init \
    --apiserver-advertise-address="$CONTROL_PLANE_IP" \
    --pod-network-cidr="$POD_CIDR" \
    --token="$JOIN_TOKEN" --token-ttl=0 \
    --node-name="$(hostname)"
fi

install -d -o vagrant -g vagrant /home/vagrant/.kube
install -m 0600 -o vagrant -g vagrant /etc/kubernetes/admin.conf /home/vagrant/.kube/config
export KUBECONFIG=/etc/kubernetes/admin.conf

# Flannel's default network is 10.244.0.0/16, the lab's POD_CIDR. Its interface is the one that
# reaches the control plane (the private network), whatever the provider names it.
curl -fsSL "https://github.com/flannel-io/flannel/releases/download/${FLANNEL_VERSION}/kube-flannel.yml" \
  | sed "s|- --kube-subnet-mgr|- --kube-subnet-mgr\n        - --iface-can-reach=${CONTROL_PLANE_IP}|" \
  | kubectl apply -f -
echo "control-plane.sh: cluster initialised; workers join with the lab's bootstrap token"
