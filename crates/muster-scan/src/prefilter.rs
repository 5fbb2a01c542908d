//! The keyword prefilter: finds where any rule's keywords occur.
//!
//! Case-insensitive keywords (gitleaks' semantics, e.g. `password`, `token`) are searched
//! in a copy of the chunk with every byte OR-ed with 0x20 (ASCII letters folded to lower
//! case), with the keywords folded the same way. Folding never loses a case-insensitive
//! match; the few extra candidates it makes (`[` folds like `{`) are rejected by the
//! rule's regex. Exact keywords (rules with `caseSensitiveKeywords = true`, e.g. `ghp_`)
//! join that pass when all keywords fit in one SIMD "Teddy" searcher of the
//! `aho-corasick` crate (64 patterns, several GB/s); otherwise they get a pass of their
//! own over the original bytes, and a group larger than 64 (a full gitleaks
//! configuration) uses an Aho-Corasick DFA. Keywords of one or two bytes are too short
//! for Teddy and are searched with SIMD `memmem`. Searches are leftmost-longest and non-overlapping, as in gitleaks;
//! a keyword contained in a longer one also triggers its rules when the longer one is hit.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, packed};

/// Above this many keywords in a group, use an Aho-Corasick DFA instead of Teddy.
const TEDDY_MAX: usize = 64;

enum Finder {
    Packed(packed::Searcher),
    Dfa(AhoCorasick),
}

impl std::fmt::Debug for Finder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finder::Packed(_) => f.write_str("Teddy"),
            Finder::Dfa(_) => f.write_str("AhoCorasickDfa"),
        }
    }
}

impl Finder {
    fn build(patterns: &[Vec<u8>]) -> Result<Finder, String> {
        if patterns.len() <= TEDDY_MAX {
            let mut cfg = packed::Config::new();
            cfg.match_kind(packed::MatchKind::LeftmostLongest)
                .heuristic_pattern_limits(false);
            let mut b = cfg.builder();
            for p in patterns {
                b.add(p);
            }
            if let Some(s) = b.build() {
                return Ok(Finder::Packed(s));
            }
        }
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(patterns)
            .map(Finder::Dfa)
            .map_err(|e| e.to_string())
    }

    fn for_each(&self, hay: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        match self {
            Finder::Packed(s) => {
                for m in s.find_iter(hay) {
                    f(m.pattern().as_usize(), m.start(), m.end());
                }
            }
            Finder::Dfa(ac) => {
                for m in ac.find_iter(hay) {
                    f(m.pattern().as_usize(), m.start(), m.end());
                }
            }
        }
    }
}

#[derive(Debug)]
struct Group {
    finder: Finder,
    /// Pattern id → rules it triggers.
    rules: Vec<Vec<usize>>,
}

impl Group {
    fn new(keywords: Vec<(Vec<u8>, Vec<usize>)>) -> Result<Option<Group>, String> {
        if keywords.is_empty() {
            return Ok(None);
        }
        let patterns: Vec<Vec<u8>> = keywords.iter().map(|k| k.0.clone()).collect();
        // A keyword containing another also triggers the other's rules, since the
        // non-overlapping search reports only the longer one.
        let mut rules: Vec<Vec<usize>> = keywords.iter().map(|k| k.1.clone()).collect();
        for (i, (long, _)) in keywords.iter().enumerate() {
            for (short, short_rules) in &keywords {
                if short.len() < long.len() && memchr::memmem::find(long, short).is_some() {
                    rules[i].extend(short_rules);
                }
            }
            rules[i].sort_unstable();
            rules[i].dedup();
        }
        Ok(Some(Group {
            finder: Finder::build(&patterns)?,
            rules,
        }))
    }
}

/// Keyword search: one or two multi-pattern passes plus `memmem` for very short keywords.
#[derive(Debug)]
pub(crate) struct Prefilter {
    /// Multi-pattern groups: (group, searched in the folded copy?).
    groups: Vec<(Group, bool)>,
    /// Keywords shorter than 3 bytes (too short for Teddy's fingerprints): searched one by
    /// one with SIMD `memmem`, in the folded copy when `folded`.
    short: Vec<(memchr::memmem::Finder<'static>, bool, Vec<usize>)>,
}

/// Fold ASCII letters to lower case the cheap way (also maps a few punctuation bytes
/// onto others, which only adds candidates).
#[inline]
fn fold(b: u8) -> u8 {
    b | 0x20
}

impl Prefilter {
    /// `keywords`: (keyword, case-sensitive, rule index).
    pub(crate) fn new(keywords: &[(String, bool, usize)]) -> Result<Prefilter, String> {
        let mut exact: Vec<(Vec<u8>, Vec<usize>)> = Vec::new();
        let mut folded: Vec<(Vec<u8>, Vec<usize>)> = Vec::new();
        let mut short: Vec<(Vec<u8>, bool, Vec<usize>)> = Vec::new();
        for (kw, case_sensitive, rule) in keywords {
            let bytes: Vec<u8> = if *case_sensitive {
                kw.as_bytes().to_vec()
            } else {
                kw.bytes().map(fold).collect()
            };
            if bytes.len() < 3 {
                match short
                    .iter_mut()
                    .find(|g| g.0 == bytes && g.1 != *case_sensitive)
                {
                    Some(g) => g.2.push(*rule),
                    None => short.push((bytes, !case_sensitive, vec![*rule])),
                }
                continue;
            }
            let group = if *case_sensitive {
                &mut exact
            } else {
                &mut folded
            };
            match group.iter_mut().find(|g| g.0 == bytes) {
                Some(g) => g.1.push(*rule),
                None => group.push((bytes, vec![*rule])),
            }
        }
        let mut groups = Vec::new();
        if exact.len() + folded.len() <= TEDDY_MAX && !folded.is_empty() {
            // One pass over the folded copy serves both: folding an exact keyword only
            // widens what it matches, and the rules' regexes decide.
            let mut all = folded;
            for (k, rules) in exact {
                let k: Vec<u8> = k.iter().map(|&b| fold(b)).collect();
                match all.iter_mut().find(|g| g.0 == k) {
                    Some(g) => g.1.extend(rules),
                    None => all.push((k, rules)),
                }
            }
            groups.extend(Group::new(all)?.map(|g| (g, true)));
        } else {
            groups.extend(Group::new(exact)?.map(|g| (g, false)));
            groups.extend(Group::new(folded)?.map(|g| (g, true)));
        }
        let short = short
            .into_iter()
            .map(|(k, f, r)| (memchr::memmem::Finder::new(&k).into_owned(), f, r))
            .collect();
        Ok(Prefilter { groups, short })
    }

    /// True when there are no keywords at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.short.is_empty()
    }

    /// Call `f(rules, start, end)` for every keyword hit in `hay`. `scratch` is reused
    /// for the folded copy.
    pub(crate) fn for_each_hit(
        &self,
        hay: &[u8],
        scratch: &mut Vec<u8>,
        mut f: impl FnMut(&[usize], usize, usize),
    ) {
        let needs_fold = self.groups.iter().any(|g| g.1) || self.short.iter().any(|s| s.1);
        if needs_fold {
            // A plain loop over equal-length slices vectorises well.
            scratch.resize(hay.len(), 0);
            for (o, &b) in scratch.iter_mut().zip(hay) {
                *o = fold(b);
            }
        }
        for (g, folded) in &self.groups {
            let text: &[u8] = if *folded { scratch } else { hay };
            g.finder.for_each(text, |p, s, e| f(&g.rules[p], s, e));
        }
        for (finder, folded, rules) in &self.short {
            let text: &[u8] = if *folded { scratch } else { hay };
            let n = finder.needle().len();
            for s in finder.find_iter(text) {
                f(rules, s, s + n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(p: &Prefilter, text: &str) -> Vec<(Vec<usize>, usize)> {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        p.for_each_hit(text.as_bytes(), &mut scratch, |r, s, _| {
            out.push((r.to_vec(), s))
        });
        out.sort_by_key(|h| h.1);
        out
    }

    #[test]
    fn exact_and_folded_groups() {
        let p = Prefilter::new(&[
            ("ghp_".into(), true, 0),
            ("token".into(), false, 1),
            ("_authtoken".into(), false, 2),
        ])
        .unwrap();
        // Few keywords: one pass over the folded text; exact keywords match more widely
        // there and the rule's regex decides.
        assert_eq!(hits(&p, "GHP_x ghp_y"), vec![(vec![0], 0), (vec![0], 6)]);
        assert_eq!(hits(&p, "TOKEN Token"), vec![(vec![1], 0), (vec![1], 6)]);
        // The longer keyword hides "token" but still triggers its rule.
        assert_eq!(hits(&p, "x_authToken=1"), vec![(vec![1, 2], 1)]);
    }

    #[test]
    fn short_keywords_use_memmem() {
        let p = Prefilter::new(&[
            ("Q~".into(), true, 0),
            ("pw".into(), false, 1),
            ("token".into(), false, 2),
        ])
        .unwrap();
        assert_eq!(
            hits(&p, "a8Q~b q~ PW token"),
            vec![(vec![0], 2), (vec![1], 9), (vec![2], 12)]
        );
    }

    #[test]
    fn many_keywords_fall_back_to_a_dfa() {
        let kws: Vec<(String, bool, usize)> =
            (0..200).map(|i| (format!("kw{i:03}x"), false, i)).collect();
        let p = Prefilter::new(&kws).unwrap();
        assert!(matches!(p.groups[0].0.finder, Finder::Dfa(_)));
        assert_eq!(hits(&p, "a KW150X b"), vec![(vec![150], 2)]);
    }
}
