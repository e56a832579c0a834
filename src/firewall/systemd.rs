//! The `--persist systemd` files, as text and paths: the script that re-applies the rules, the
//! oneshot unit ordered before the kubelet, and the `multi-user.target.wants` link that enables
//! it. `remedy::systemd` writes them and `host::firewall` reads them back.

pub const SCRIPT_PATH: &str = "/etc/hardnode/firewall.sh";
pub const UNIT_NAME: &str = "hardnode-firewall.service";
pub const UNIT_PATH: &str = "/etc/systemd/system/hardnode-firewall.service";
pub const WANTS_LINK: &str =
    "/etc/systemd/system/multi-user.target.wants/hardnode-firewall.service";

/// The first line of every file hardnode writes here: `remove` deletes only files that have it.
pub const HEADER: &str = "# Written by hardnode (`hardnode firewall apply --persist systemd`).";

pub fn script(lines: &[String]) -> String {
    let mut text = format!(
        "#!/bin/sh\n{HEADER}\n# Re-applies hardnode's apiserver firewall rules; every line is idempotent.\n"
    );
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

pub fn unit() -> String {
    format!(
        "{HEADER}
[Unit]
Description=hardnode: block the container CIDR from the kube-apiserver
Documentation=man:iptables(8)
After=local-fs.target
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh {SCRIPT_PATH}

[Install]
WantedBy=multi-user.target
"
    )
}
