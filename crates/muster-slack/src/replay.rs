//! Refusing a signed request seen before.
//!
//! A signature is valid for the whole timestamp window (5 minutes), so whoever captured a
//! signed request could send it again and again: a second `/incident note` would add the
//! note twice. Every signature accepted in the window is kept, and a request carrying one
//! of them again is recognised. The caller answers it like a duplicate (200, nothing done),
//! so a Slack retry that reuses its signature is not retried forever either.
//!
//! The memory is per process and bounded: at most `capacity` signatures, the oldest
//! forgotten first, and none older than the window. Duplicates that reach another process
//! (several servers behind a load balancer) are still recognised where it matters, by the
//! delivery ids kept in the database.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// Signatures kept at most: 200 requests a second for the whole 5-minute window, twice.
pub const DEFAULT_CAPACITY: usize = 120_000;

/// Whether a signed request was seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    First,
    Again,
}

pub struct ReplayGuard {
    window_secs: i64,
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    seen: HashSet<u128>,
    /// In arrival order, with the request's timestamp, for forgetting.
    order: VecDeque<(i64, u128)>,
}

/// 128 bits of the signature stand for it: an HMAC's bits are uniform, and nobody without
/// the secret can choose them, so two requests share them only by being the same request.
/// 16 bytes a request instead of the 67-byte text keeps the window's memory small
/// (60,000 requests, 5 minutes at 200 a second: about 4 MB).
fn key(signature: &str) -> u128 {
    let hex = signature.strip_prefix("v0=").unwrap_or(signature);
    match hex.get(..32).and_then(|h| u128::from_str_radix(h, 16).ok()) {
        Some(k) => k,
        // Not a v0 signature (the verifier refuses those first): hash the text instead.
        None => {
            use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
            u128::from(BuildHasherDefault::<DefaultHasher>::default().hash_one(signature))
        }
    }
}

impl ReplayGuard {
    pub fn new(window_secs: i64, capacity: usize) -> Self {
        ReplayGuard {
            window_secs,
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Record `signature` (already verified, sent at `timestamp`); `Again` if it was seen.
    pub fn check(&self, signature: &str, timestamp: i64, now: i64) -> Seen {
        let k = key(signature);
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((ts, _)) = s.order.front() {
            if *ts >= now - self.window_secs && s.order.len() < self.capacity {
                break;
            }
            if let Some((_, old)) = s.order.pop_front() {
                s.seen.remove(&old);
            }
        }
        if !s.seen.insert(k) {
            return Seen::Again;
        }
        s.order.push_back((timestamp, k));
        Seen::First
    }

    /// How many signatures are remembered.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.seen.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard::new(crate::signature::DEFAULT_TOLERANCE_SECS, DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_seen_once_within_the_window() {
        let g = ReplayGuard::new(300, 10);
        assert_eq!(g.check("v0=a", 1000, 1000), Seen::First);
        assert_eq!(g.check("v0=a", 1000, 1100), Seen::Again);
        assert_eq!(g.check("v0=b", 1000, 1100), Seen::First);
        // Past the window it is forgotten (the signature check refuses it anyway).
        assert_eq!(g.check("v0=c", 1400, 1400), Seen::First);
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn memory_is_bounded() {
        let g = ReplayGuard::new(300, 100);
        for k in 0..10_000 {
            g.check(&format!("v0={k}"), 1000, 1000);
        }
        assert!(g.len() <= 100, "{}", g.len());
        // The newest are still recognised.
        assert_eq!(g.check("v0=9999", 1000, 1000), Seen::Again);
    }
}
