#!/usr/bin/env bash
# The control-plane node: kubeadm init with the lab's pod CIDR, kubectl for the vagrant user,
# the Flannel CNI, and the join command left in the shared folder for the workers.
# Env: CONTROL_PLANE_IP, POD_CIDR.
set -euo pipefail
: "${CONTROL_PLANE_IP:?}" "${POD_CIDR:?}"

if [ ! -f /etc/kubernetes/admin.conf ]; then
  kubeadm init \
    --apiserver-advertise-address="$CONTROL_PLANE_IP" \
    --pod-network-cidr="$POD_CIDR" \
    --node-name="$(hostname)"
fi

install -d -o vagrant -g vagrant /home/vagrant/.kube
install -m 0600 -o vagrant -g vagrant /etc/kubernetes/admin.conf /home/vagrant/.kube/config
export KUBECONFIG=/etc/kubernetes/admin.conf

# Flannel's default network is 10.244.0.0/16, the lab's POD_CIDR; bind it to the private NIC.
curl -fsSL https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml \
  | sed 's|- --kube-subnet-mgr|- --kube-subnet-mgr\n        - --iface=eth1|' \
  | kubectl apply -f -

kubeadm token create --print-join-command > /hardnode/vagrant/.join-command
chmod 0600 /hardnode/vagrant/.join-command
echo "control-plane.sh: cluster initialised; join command in vagrant/.join-command"
