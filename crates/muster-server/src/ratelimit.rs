//! Token buckets keyed by source, in bounded memory.
//!
//! Each source (a client address, a Slack workspace) has a bucket holding up to `burst`
//! tokens, refilled at `per_second`; a request takes one token or is refused with the time
//! until the next one. A bucket that has refilled completely is indistinguishable from a new
//! one, so it is dropped when room is needed: the map never holds more than `cap` sources.
//! When every remembered source is active (a flood from many addresses), the oldest half is
//! forgotten: those sources start again with a full bucket, memory stays bounded.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Bucket {
    tokens: f64,
    at: Instant,
    /// Until when this source is trusted (see [`Limiter::trust`]).
    trusted_until: Option<Instant>,
}

impl Bucket {
    fn refill(&mut self, now: Instant, per_second: f64, burst: f64) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(burst);
        self.at = now;
    }
}

/// A set of token buckets, one per key, holding at most `cap` keys.
pub struct Limiter<K> {
    per_second: f64,
    burst: f64,
    cap: usize,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(per_second: u32, burst: u32, cap: u32) -> Self {
        Limiter {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            cap: cap.max(1) as usize,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take a token for `key`, or say how long until one is available.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = self.entry(&mut map, key, now);
        b.refill(now, self.per_second, self.burst);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(self.wait(b.tokens))
        }
    }

    /// Whether `key` has a token left, without taking it. Unknown keys have a full bucket.
    /// A trusted key always passes.
    pub fn peek(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(b) = map.get_mut(key) else {
            return Ok(());
        };
        if b.trusted_until.is_some_and(|t| t > now) {
            return Ok(());
        }
        b.refill(now, self.per_second, self.burst);
        if b.tokens >= 1.0 {
            Ok(())
        } else {
            Err(self.wait(b.tokens))
        }
    }

    /// Let `key` through [`peek`](Self::peek) until `until`, whatever its bucket holds.
    pub fn trust(&self, key: &K, now: Instant, until: Instant) {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        self.entry(&mut map, key, now).trusted_until = Some(until);
    }

    /// The bucket of `key`, a full one if it is new (making room for it first).
    fn entry<'m>(&self, map: &'m mut HashMap<K, Bucket>, key: &K, now: Instant) -> &'m mut Bucket {
        if !map.contains_key(key) {
            self.make_room(map, now);
            map.insert(
                key.clone(),
                Bucket {
                    tokens: self.burst,
                    at: now,
                    trusted_until: None,
                },
            );
        }
        map.get_mut(key).expect("inserted above")
    }

    /// How many sources are remembered.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn wait(&self, tokens: f64) -> Duration {
        Duration::from_secs_f64(((1.0 - tokens) / self.per_second).max(0.001))
    }

    /// Called before inserting a key: at the cap, forget idle sources (full buckets, trust
    /// expired), then, if that was not enough, the least recently seen half.
    fn make_room(&self, map: &mut HashMap<K, Bucket>, now: Instant) {
        if map.len() < self.cap {
            return;
        }
        let (per_second, burst) = (self.per_second, self.burst);
        map.retain(|_, b| {
            b.refill(now, per_second, burst);
            b.tokens < burst || b.trusted_until.is_some_and(|t| t > now)
        });
        if map.len() < self.cap {
            return;
        }
        let mut seen: Vec<Instant> = map.values().map(|b| b.at).collect();
        let mid = seen.len() / 2;
        let (_, cutoff, _) = seen.select_nth_unstable(mid);
        let cutoff = *cutoff;
        map.retain(|_, b| b.at > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// `n` requests from `key` at `at` all pass.
    fn take(l: &Limiter<&'static str>, key: &'static str, n: usize, at: Instant) {
        for i in 0..n {
            assert!(l.check(&key, at).is_ok(), "{key}: request {i} of {n}");
        }
    }

    #[test]
    fn refuses_after_the_burst_and_says_when_to_retry() {
        let l = Limiter::new(20, 100, 1000);
        let t0 = Instant::now();
        take(&l, "a", 100, t0);
        let wait = l.check(&"a", t0).unwrap_err();
        assert!(wait > 40 * MS && wait <= 50 * MS, "{wait:?}");
    }

    #[test]
    fn recovers_at_the_refill_rate() {
        let l = Limiter::new(20, 100, 1000);
        let t0 = Instant::now();
        take(&l, "a", 100, t0);
        assert!(l.check(&"a", t0 + 10 * MS).is_err());
        // One token every 50 ms: 10 tokens after half a second, no more.
        let t1 = t0 + 500 * MS;
        take(&l, "a", 10, t1);
        assert!(l.check(&"a", t1).is_err());
        // Idle long enough, the whole burst is back.
        let t2 = t1 + Duration::from_secs(10);
        take(&l, "a", 100, t2);
    }

    #[test]
    fn sources_do_not_affect_each_other() {
        let l = Limiter::new(1, 5, 1000);
        let t0 = Instant::now();
        take(&l, "flood", 5, t0);
        assert!(l.check(&"flood", t0).is_err());
        take(&l, "quiet", 5, t0);
    }

    #[test]
    fn a_steady_rate_under_the_limit_is_never_refused() {
        // Slack's verified traffic: 200 requests per second for a minute, against the
        // default per-workspace limit (500/s, burst 2000).
        let l = Limiter::new(500, 2000, 10_000);
        let t0 = Instant::now();
        for k in 0..200 * 60 {
            assert!(l.check(&"T1", t0 + 5 * MS * k).is_ok(), "request {k}");
        }
        // Even a burst of 1,000 at once on top.
        let t1 = t0 + Duration::from_secs(61);
        take(&l, "T1", 1000, t1);
    }

    #[test]
    fn memory_is_bounded_with_many_sources() {
        let cap = 10_000;
        let l = Limiter::new(20, 100, cap);
        let t0 = Instant::now();
        // 100,000 distinct addresses, each sending a request (all active, none idle).
        for i in 0..100_000u32 {
            let ip = std::net::IpAddr::from(i.to_be_bytes());
            l.check(&ip, t0 + MS * (i / 100)).unwrap();
            assert!(l.tracked() <= cap as usize);
        }
        assert!(l.tracked() <= cap as usize);
        // The most recent sources are still remembered: a flooding one stays limited.
        let last = std::net::IpAddr::from(99_999u32.to_be_bytes());
        let now = t0 + MS * 999;
        for _ in 0..99 {
            l.check(&last, now).unwrap();
        }
        assert!(l.check(&last, now).is_err());
    }

    #[test]
    fn idle_sources_are_forgotten_before_active_ones() {
        let l = Limiter::new(1, 2, 3);
        let t0 = Instant::now();
        l.check(&"idle", t0).unwrap();
        l.check(&"busy", t0).unwrap();
        l.check(&"busy", t0).unwrap();
        l.check(&"other", t0).unwrap();
        // "idle" has refilled after 1 s, "busy" has not: a fourth source evicts "idle" only.
        let t1 = t0 + Duration::from_millis(1500);
        l.check(&"new", t1).unwrap();
        assert!(l.tracked() <= 3);
        assert!(l.check(&"busy", t1).is_ok());
        assert!(l.check(&"busy", t1).is_err());
    }

    #[test]
    fn peek_takes_nothing_and_trust_lets_through() {
        let l = Limiter::new(1, 2, 100);
        let t0 = Instant::now();
        assert!(l.peek(&"x", t0).is_ok());
        assert_eq!(l.tracked(), 0);
        l.check(&"x", t0).unwrap();
        l.check(&"x", t0).unwrap();
        assert!(l.peek(&"x", t0).is_err());
        l.trust(&"x", t0, t0 + Duration::from_secs(60));
        assert!(l.peek(&"x", t0).is_ok());
        assert!(l.peek(&"x", t0 + Duration::from_secs(61)).is_ok()); // refilled by then
        l.check(&"x", t0 + Duration::from_secs(61)).unwrap();
        l.check(&"x", t0 + Duration::from_secs(61)).unwrap();
        assert!(l.peek(&"x", t0 + Duration::from_secs(61)).is_err());
    }
}
