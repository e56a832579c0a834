#!/usr/bin/env bash
# A worker: joins the cluster with the bootstrap token the Vagrantfile handed to every node.
# The lab's host-only network is the trust boundary: the control plane's CA is taken from the
# cluster-info it serves there (kubeadm's token discovery without a pinned CA hash), which is
# acceptable for a throwaway lab and nowhere else.
# Env: CONTROL_PLANE_IP, JOIN_TOKEN, NODE_IP.
set -euo pipefail
: "${CONTROL_PLANE_IP:?}" "${JOIN_TOKEN:?}" "${NODE_IP:?}"
if [ -f /etc/kubernetes/kubelet.conf ]; then
  echo "worker.sh: already joined"
  exit 0
fi
# Bounded wait for the API server (the control plane is provisioned first, but may still start).
for _ in $(seq 1 60); do
  if curl -ksf "https://${CONTROL_PLANE_IP}:6443/healthz" >/dev/null; then
    break
  fi
  sleep 5
done
kubeadm join "${CONTROL_PLANE_IP}:6443" \
  --token "$JOIN_TOKEN" \
  --discovery-token-unsafe-skip-ca-verification \
  --node-name "$(hostname)"
