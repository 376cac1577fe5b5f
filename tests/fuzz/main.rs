//! Bounded fuzzing on the stable toolchain (issue 12): the statement guard, the row-model SQL
//! builder and the connection settings parser, fed generated inputs for a fixed time each
//! (`DC_FUZZ_SECONDS`, 3 s by default; scripts/test.sh gives them 30). `cargo fuzz` needs a
//! nightly compiler and libFuzzer, which this project's machines do not have; a seeded
//! generator that mixes the constructs each parser cares about (quotes, comment openers,
//! control characters, executable comments, refused words) reaches the interesting states
//! quickly, and every failure prints the seed and input that reproduce it.
//!
//! Each target asserts properties, not just "no panic": see the modules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod guard;
mod rowmodel;
mod settings;

use std::time::{Duration, Instant};

/// A small, fast PRNG (xorshift64*): the seed alone reproduces a run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// How long each target runs.
pub fn budget() -> Duration {
    let seconds = std::env::var("DC_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    Duration::from_secs(seconds)
}

/// Runs `case` with fresh seeds until the budget is spent; returns the number of cases.
pub fn run_for(name: &str, mut case: impl FnMut(&mut Rng, u64)) -> u64 {
    let started = Instant::now();
    let base: u64 = std::env::var("DC_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let mut n = 0u64;
    while started.elapsed() < budget() {
        // Checking the clock costs little next to a case, but batches keep it off the profile.
        for _ in 0..64 {
            let seed = base.wrapping_add(n).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            case(&mut Rng::new(seed), seed);
            n += 1;
        }
    }
    eprintln!("fuzz {name}: {n} cases in {:.1} s", started.elapsed().as_secs_f64());
    n
}
