#!/usr/bin/env python3
"""Builds a synthetic host root for benchmarks: a kubeadm control-plane node (apiserver, etcd,
controller-manager, scheduler, kubelet, kube-proxy, containerd) with N containers, a populated
seccomp directory and AppArmor profile list, and filler processes up to --procs.

Usage: scripts/synth-root.py DIR [--procs N] [--containers N]
"""
import argparse
import gzip
import os
import uuid

RELEASE = "5.15.0-105-generic"
PKI = "/etc/kubernetes/pki"

APISERVER = [
    "kube-apiserver", "--advertise-address=192.168.56.10", "--allow-privileged=true",
    "--authorization-mode=Node,RBAC", f"--client-ca-file={PKI}/ca.crt",
    "--enable-admission-plugins=NodeRestriction", "--enable-bootstrap-token-auth=true",
    f"--etcd-cafile={PKI}/etcd/ca.crt", f"--etcd-certfile={PKI}/apiserver-etcd-client.crt",
    f"--etcd-keyfile={PKI}/apiserver-etcd-client.key", "--etcd-servers=https://127.0.0.1:2379",
    f"--kubelet-client-certificate={PKI}/apiserver-kubelet-client.crt",
    f"--kubelet-client-key={PKI}/apiserver-kubelet-client.key",
    "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
    f"--proxy-client-cert-file={PKI}/front-proxy-client.crt",
    f"--proxy-client-key-file={PKI}/front-proxy-client.key",
    "--requestheader-allowed-names=front-proxy-client",
    f"--requestheader-client-ca-file={PKI}/front-proxy-ca.crt",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-", "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-username-headers=X-Remote-User", "--secure-port=6443",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    f"--service-account-key-file={PKI}/sa.pub", f"--service-account-signing-key-file={PKI}/sa.key",
    "--service-cluster-ip-range=10.96.0.0/12", f"--tls-cert-file={PKI}/apiserver.crt",
    f"--tls-private-key-file={PKI}/apiserver.key",
]
ETCD = [
    "etcd", "--advertise-client-urls=https://192.168.56.10:2379", f"--cert-file={PKI}/etcd/server.crt",
    "--client-cert-auth=true", "--data-dir=/var/lib/etcd", "--experimental-initial-corrupt-check=true",
    "--initial-advertise-peer-urls=https://192.168.56.10:2380",
    "--initial-cluster=cp1=https://192.168.56.10:2380", f"--key-file={PKI}/etcd/server.key",
    "--listen-client-urls=https://127.0.0.1:2379,https://192.168.56.10:2379",
    "--listen-metrics-urls=http://127.0.0.1:2381", "--listen-peer-urls=https://192.168.56.10:2380",
    "--name=cp1", f"--peer-cert-file={PKI}/etcd/peer.crt", "--peer-client-cert-auth=true",
    f"--peer-key-file={PKI}/etcd/peer.key", f"--peer-trusted-ca-file={PKI}/etcd/ca.crt",
    "--snapshot-count=10000", f"--trusted-ca-file={PKI}/etcd/ca.crt",
]
CONTROLLER_MANAGER = [
    "kube-controller-manager", "--allocate-node-cidrs=true",
    "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
    "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf", "--bind-address=127.0.0.1",
    f"--client-ca-file={PKI}/ca.crt", "--cluster-cidr=10.244.0.0/16", "--cluster-name=kubernetes",
    f"--cluster-signing-cert-file={PKI}/ca.crt", f"--cluster-signing-key-file={PKI}/ca.key",
    "--controllers=*,bootstrapsigner,tokencleaner", "--kubeconfig=/etc/kubernetes/controller-manager.conf",
    "--leader-elect=true", f"--requestheader-client-ca-file={PKI}/front-proxy-ca.crt",
    f"--root-ca-file={PKI}/ca.crt", f"--service-account-private-key-file={PKI}/sa.key",
    "--service-cluster-ip-range=10.96.0.0/12", "--use-service-account-credentials=true",
]
SCHEDULER = [
    "kube-scheduler", "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
    "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
    "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true",
]
KUBELET = [
    "/usr/bin/kubelet", "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
    "--kubeconfig=/etc/kubernetes/kubelet.conf", "--config=/var/lib/kubelet/config.yaml",
    "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock",
    "--pod-infra-container-image=registry.k8s.io/pause:3.9",
]
PROXY = ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=cp1"]
KUBELET_CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: ""
cpuManagerReconcilePeriod: 0s
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
  verbosity: 0
memorySwap: {}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
"""
PROFILES = [
    "/usr/sbin/tcpdump", "/usr/lib/snapd/snap-confine", "/usr/bin/man", "man_filter", "man_groff",
    "lsb_release", "nvidia_modprobe", "cri-containerd.apparmor.d", "k8s-deny-write",
]
# Docker/containerd default capability set (CapEff of an unprivileged container).
DEFAULT_CAPS = "00000000a80425fb"
FULL_CAPS = "000001ffffffffff"


def write(root, path, content, mode=0o644):
    real = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(real), exist_ok=True)
    with open(real, "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode())
    os.chmod(real, mode)


def symlink(root, target, path):
    real = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(real), exist_ok=True)
    os.symlink(target, real)


def status(name, pid, uid=0, cap_eff=FULL_CAPS, seccomp=0, nnp=0):
    return (
        f"Name:\t{name[:15]}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\n"
        f"PPid:\t1\nTracerPid:\t0\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n"
        f"FDSize:\t64\nGroups:\t\nVmRSS:\t  10240 kB\nThreads:\t8\n"
        f"CapInh:\t0000000000000000\nCapPrm:\t{cap_eff}\nCapEff:\t{cap_eff}\nCapBnd:\t{cap_eff}\n"
        f"CapAmb:\t0000000000000000\nNoNewPrivs:\t{nnp}\nSeccomp:\t{seccomp}\nSeccomp_filters:\t{1 if seccomp else 0}\n"
    )


def process(root, pid, argv, cgroup="0::/system.slice/kubelet.service\n", ns_base=4026531990, **kw):
    base = f"/proc/{pid}"
    write(root, f"{base}/cmdline", b"\0".join(a.encode() for a in argv) + b"\0")
    write(root, f"{base}/status", status(os.path.basename(argv[0]) if argv else "kworker", pid, **kw))
    write(root, f"{base}/cgroup", cgroup)
    write(root, f"{base}/attr/apparmor/current", "unconfined\n")
    for i, ns in enumerate(["net", "pid", "ipc", "uts", "mnt", "user", "cgroup"]):
        symlink(root, f"{ns}:[{ns_base + i}]", f"{base}/ns/{ns}")
    symlink(root, "/", f"{base}/cwd")


def container(root, pid, index):
    pod_uid = str(uuid.UUID(int=index + 1))
    container_id = f"{index:064x}"
    cgroup = (
        "0::/kubepods.slice/kubepods-burstable.slice/"
        f"kubepods-burstable-pod{pod_uid.replace('-', '_')}.slice/cri-containerd-{container_id}.scope\n"
    )
    privileged = index % 10 == 0
    process(
        root, pid, ["/app/server", "--port=8080"], cgroup=cgroup, ns_base=4026532000 + index * 10,
        uid=0 if privileged else 65532, cap_eff=FULL_CAPS if privileged else DEFAULT_CAPS,
        seccomp=0 if privileged else 2, nnp=0 if privileged else 1,
    )
    write(root, f"/proc/{pid}/attr/apparmor/current",
          "unconfined\n" if privileged else "cri-containerd.apparmor.d (enforce)\n")
    mounts = [
        f"{1000 + index} 900 0:{50 + index} / / rw,relatime master:1 - overlay overlay rw,lowerdir=/var/lib/containerd/l{index}",
        f"{1001 + index} {1000 + index} 0:5 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
        f"{1002 + index} {1000 + index} 0:6 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755",
        f"{1003 + index} {1000 + index} 254:1 /var/lib/kubelet/pods/{pod_uid}/etc-hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw",
        f"{1004 + index} {1000 + index} 0:{80 + index} / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw,size=4k",
    ]
    if privileged:
        mounts.append(f"{1005 + index} {1000 + index} 0:25 /run/containerd/containerd.sock /run/containerd/containerd.sock rw - tmpfs tmpfs rw")
    write(root, f"/proc/{pid}/mountinfo", "\n".join(mounts) + "\n")
    write(root, f"/var/log/pods/default_app-{index}_{pod_uid}/server/0.log", "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root")
    parser.add_argument("--procs", type=int, default=200)
    parser.add_argument("--containers", type=int, default=40)
    args = parser.parse_args()
    root = args.root
    os.makedirs(root, exist_ok=True)

    write(root, "/proc/sys/kernel/hostname", "cp1\n")
    write(root, "/proc/sys/kernel/osrelease", RELEASE + "\n")
    write(root, "/etc/os-release", 'NAME="Ubuntu"\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\nID=ubuntu\n')
    config = "\n".join(["CONFIG_SECCOMP=y", "CONFIG_SECCOMP_FILTER=y", "CONFIG_SECURITY_APPARMOR=y"]
                       + [f"CONFIG_OPTION_{i}=y" for i in range(6000)]) + "\n"
    write(root, f"/boot/config-{RELEASE}", config)
    write(root, "/proc/config.gz", gzip.compress(config.encode()))
    write(root, "/sys/module/apparmor/parameters/enabled", "Y\n")
    write(root, "/sys/kernel/security/lsm", "lockdown,capability,landlock,yama,apparmor")
    write(root, "/sys/kernel/security/apparmor/profiles",
          "".join(f"{p} (enforce)\n" for p in PROFILES) + "".join(f"snap.app{i}.hook (enforce)\n" for i in range(60)))
    for i in range(30):
        write(root, f"/var/lib/kubelet/seccomp/profiles/p{i}.json",
              '{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],'
              '"syscalls":[{"names":["read","write","openat","close","futex","epoll_wait","mmap"],"action":"SCMP_ACT_ALLOW"}]}')
    write(root, "/var/lib/kubelet/config.yaml", KUBELET_CONFIG, 0o644)
    for name in ["admin.conf", "controller-manager.conf", "scheduler.conf", "kubelet.conf", "super-admin.conf"]:
        write(root, f"/etc/kubernetes/{name}",
              "apiVersion: v1\nclusters:\n- cluster:\n    server: https://192.168.56.10:6443\n  name: kubernetes\nkind: Config\n",
              0o600)
    for name in ["ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "sa.key", "sa.pub", "etcd/ca.crt", "etcd/server.key"]:
        write(root, f"{PKI}/{name}", "-----BEGIN-----\n", 0o600 if name.endswith(".key") else 0o644)
    write(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nubuntu:x:1000:1000::/home/ubuntu:/bin/bash\n")
    write(root, "/etc/group", "root:x:0:\nubuntu:x:1000:\n")
    write(root, "/var/lib/kube-proxy/config.conf", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\nmode: iptables\n")

    process(root, 1, ["/sbin/init"], cgroup="0::/init.scope\n")
    pid = 1000
    for argv in [APISERVER, ETCD, CONTROLLER_MANAGER, SCHEDULER, KUBELET, PROXY, ["/usr/bin/containerd"]]:
        pid += 1
        process(root, pid, argv)
    for index in range(args.containers):
        pid += 1
        container(root, pid, index)
    filler = max(0, args.procs - pid + 1000 - 1)
    for _ in range(filler):
        pid += 1
        process(root, pid, [] if pid % 3 else ["/usr/sbin/sshd", "-D"], cgroup="0::/system.slice/ssh.service\n")
    print(f"{root}: {pid - 1000 + 1} processes, {args.containers} containers")


if __name__ == "__main__":
    main()
