//! Work split across the CPUs: hardnode's costs are system calls (a `/proc` walk) and parsing
//! (the embedded rule files), both independent per item, so a 2-core node does them in about
//! half the time. Results always come back in item order: a run's output never depends on how
//! the threads were scheduled.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How `items` are shared out.
pub struct Split {
    /// Items per block; each block gets a fresh state, and threads claim the next unclaimed block.
    pub per_block: usize,
    /// Below this many items per thread, fewer threads (starting one costs about 100 µs).
    pub min_per_thread: usize,
    /// What the threads are called (`ps -T`, `perf`).
    pub thread_name: &'static str,
}

/// Runs `work` on every item, with one state per block of `split.per_block` items, on up to one
/// thread per CPU. The states come back in item order (one state in all when the work stays on
/// this thread), so folding them in order gives what one thread doing every item would.
pub fn for_each_block<T: Sync, S: Send>(
    items: &[T],
    split: &Split,
    new_state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &T) + Sync,
) -> Vec<S> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len() / split.min_per_thread.max(1))
        .max(1);
    if threads == 1 {
        let mut state = new_state();
        items.iter().for_each(|item| work(&mut state, item));
        return vec![state];
    }
    let blocks: Vec<&[T]> = items.chunks(split.per_block.max(1)).collect();
    let next = AtomicUsize::new(0);
    let claim = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(block) = blocks.get(index) else {
                return done;
            };
            let mut state = new_state();
            block.iter().for_each(|item| work(&mut state, item));
            done.push((index, state));
        }
    };
    let mut states = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name(split.thread_name.into())
                    .spawn_scoped(scope, claim)
                    // No thread to be had: the threads there are claim its blocks.
                    .ok()
            })
            .collect();
        let mut states = claim();
        for helper in helpers {
            states.extend(
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        states
    });
    states.sort_unstable_by_key(|(index, _)| *index);
    states.into_iter().map(|(_, state)| state).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPLIT: Split = Split {
        per_block: 16,
        min_per_thread: 48,
        thread_name: "test",
    };

    #[test]
    fn every_item_is_worked_once_and_states_come_back_in_order() {
        let items: Vec<u32> = (1..=1000).map(|n| n * 3).collect();
        let states = for_each_block(&items, &SPLIT, Vec::new, |seen: &mut Vec<u32>, &item| {
            seen.push(item)
        });
        assert_eq!(states.concat(), items);
        if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
            assert_eq!(states.len(), items.len().div_ceil(SPLIT.per_block));
        }
        let few = for_each_block(
            &items[..10],
            &SPLIT,
            Vec::new,
            |seen: &mut Vec<u32>, &item| seen.push(item),
        );
        assert_eq!(few, vec![items[..10].to_vec()]);
    }
}
