//! `/proc/<pid>/status` decoded: a field's value and the names in a capability mask. Shared by the
//! container audit (`host`) and the check of this process's own privileges (`privilege`), so
//! both name a capability the same way.

use std::sync::OnceLock;

/// The value of `Field:` in a `/proc/<pid>/status` text.
pub fn status_field(text: &str, field: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == field).then(|| value.trim().to_string())
    })
}

/// The capability names in a mask, `CAP_` prefix dropped (`SYS_ADMIN`); bits the caps crate
/// does not know are named by number (`CAP_41`).
pub fn capability_names(mask: u64) -> Vec<String> {
    // The caps crate's names by bit, built once: a node's containers ask for them hundreds of
    // times.
    static BY_BIT: OnceLock<Vec<Option<String>>> = OnceLock::new();
    let by_bit = BY_BIT.get_or_init(|| {
        let mut by_bit = vec![None; 64];
        for cap in caps::all() {
            if let Some(slot) = by_bit.get_mut(usize::from(cap.index())) {
                *slot = Some(cap.to_string().trim_start_matches("CAP_").to_string());
            }
        }
        by_bit
    });
    (0..64u8)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| {
            by_bit
                .get(usize::from(bit))
                .cloned()
                .flatten()
                .unwrap_or_else(|| format!("CAP_{bit}"))
        })
        .collect()
}

/// The bit of a capability name (`SYS_ADMIN` or `CAP_SYS_ADMIN`), via the caps crate.
pub fn capability_bit(name: &str) -> Option<u8> {
    caps::to_canonical(name)
        .parse::<caps::Capability>()
        .ok()
        .map(|cap| cap.index())
}
