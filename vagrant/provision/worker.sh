#!/usr/bin/env bash
# A worker: joins the cluster with the command the control-plane node left in the shared folder.
set -euo pipefail
join=/hardnode/vagrant/.join-command
if [ -f /etc/kubernetes/kubelet.conf ]; then
  echo "worker.sh: already joined"
  exit 0
fi
if [ ! -s "$join" ]; then
  echo "worker.sh: $join is missing: bring up control-plane first (vagrant up control-plane)" >&2
  exit 1
fi
# The join command is kubeadm's own output: `kubeadm join HOST:6443 --token ... --discovery-token-ca-cert-hash ...`
read -r -a join_command < "$join"
"${join_command[@]}"
