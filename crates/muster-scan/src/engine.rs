//! The matching engine: keyword prefilter, windows, regexes, entropy and allowlists.

use crate::ScanError;
use crate::decode::{decode_base64, decode_hex, has_escapes, unescape};
use crate::finding::{Finding, redact_display, secret_hash};
use crate::prefilter::Prefilter;
use crate::rules::{BLOCK_WINDOW_AFTER, RuleSet, Window};
use memchr::{memchr, memrchr};
use rayon::prelude::*;
use std::cell::RefCell;
use std::ops::Range;

/// How far a `line` window may reach back and forward from a keyword hit. Lines longer
/// than this are clamped, which keeps a single 200 MB line in bounded memory and time.
pub(crate) const LINE_REACH: usize = 8 * 1024;
/// Default chunk size: large inputs are split at line ends near multiples of this.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;
/// Bytes after a chunk that are scanned too, so secrets crossing the boundary are found.
pub(crate) const CHUNK_OVERLAP_FWD: usize = BLOCK_WINDOW_AFTER + 2 * LINE_REACH;
/// Bytes before a chunk kept as context when the chunk starts mid-line.
pub(crate) const CHUNK_OVERLAP_BACK: usize = LINE_REACH;

/// Inline markers that make the scanner ignore a line.
pub const ALLOW_MARKERS: [&str; 2] = ["muster:allow", "gitleaks:allow"];

thread_local! {
    /// Per-thread buffer for the case-folded copy of a chunk.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The rules a composite rule requires: (rule index, `withinLines`, `withinColumns`).
type RequiredParts = Vec<(usize, Option<usize>, Option<usize>)>;

/// A compiled scanner: rules plus the keyword automaton.
#[derive(Debug)]
pub struct Scanner {
    pub(crate) rules: RuleSet,
    prefilter: Prefilter,
    /// Rules without keywords: they always run over the whole chunk.
    always: Vec<usize>,
    pub(crate) chunk_size: usize,
    /// Drop a finding whose secret overlaps one of an earlier rule.
    pub dedupe: bool,
    /// Honour `muster:allow` / `gitleaks:allow`.
    pub allow_markers: bool,
    /// How many times encoded segments (base64, hex) are decoded and scanned again
    /// (gitleaks' `--max-decode-depth`); 0 turns decoding off.
    pub max_decode_depth: usize,
    /// Number of rules; prefilter "rules" at or above it are decoding triggers.
    n_rules: usize,
    /// Per rule: the rules it requires (composite rules), as (index, lines, columns).
    required: Vec<RequiredParts>,
    /// Any composite rule or `skipReport` rule at all?
    has_composites: bool,
}

/// Keywords that open a decoding window with the default rules (base64 runs near them
/// are decoded and scanned again): `Basic` credentials, base64 JSON (`eyJ` is `{"`; a
/// `.dockerconfigjson` too), and Kubernetes Secret manifests (`kind: Secret`, whose `data:` values are base64; the
/// window reaches 16 KiB after the keyword's line).
/// (keyword, case-sensitive)
const DECODE_TRIGGERS: &[(&str, bool)] =
    &[("basic", false), ("eyJ", true), ("kind: secret", false)];

/// Shortest base64 run worth decoding (12 bytes of text).
const MIN_BASE64: usize = 16;
/// Shortest hex run worth decoding.
const MIN_HEX: usize = 32;

/// A match inside a buffer, before line numbers are known. Offsets index the buffer.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub rule: usize,
    pub match_start: usize,
    /// Where the secret is in the buffer (for a decoded secret: the encoded text).
    pub secret: Range<usize>,
    /// The secret itself when it differs from the buffer's bytes (it was decoded).
    pub decoded: Option<Vec<u8>>,
    pub entropy: f32,
}

impl Hit {
    pub(crate) fn secret_bytes<'a>(&'a self, data: &'a [u8]) -> &'a [u8] {
        self.decoded
            .as_deref()
            .unwrap_or(&data[self.secret.clone()])
    }
}

impl Scanner {
    /// Compile a rule set.
    pub fn new(rules: RuleSet) -> Result<Scanner, ScanError> {
        let mut keywords: Vec<(String, bool, usize)> = Vec::new();
        let mut always = Vec::new();
        for (i, rule) in rules.rules.iter().enumerate() {
            if rule.regex.is_none() {
                continue; // path-only rules are handled per file
            }
            if rule.keywords.is_empty() {
                always.push(i);
            }
            for kw in &rule.keywords {
                keywords.push((kw.clone(), rule.case_sensitive_keywords, i));
            }
        }
        let n_rules = rules.rules.len();
        let required: Vec<RequiredParts> = rules
            .rules
            .iter()
            .map(|r| {
                r.required
                    .iter()
                    .filter_map(|q| {
                        let i = rules.rules.iter().position(|o| o.id == q.id)?;
                        Some((i, q.within_lines, q.within_columns))
                    })
                    .collect()
            })
            .collect();
        let has_composites =
            required.iter().any(|q| !q.is_empty()) || rules.rules.iter().any(|r| r.skip_report);
        let full_decode = rules.decode_everywhere;
        if !full_decode {
            for (t, (kw, exact)) in DECODE_TRIGGERS.iter().enumerate() {
                keywords.push((kw.to_string(), *exact, n_rules + t));
            }
        }
        let prefilter = Prefilter::new(&keywords)
            .map_err(|e| ScanError::Other(format!("keyword automaton: {e}")))?;
        Ok(Scanner {
            rules,
            prefilter,
            always,
            chunk_size: DEFAULT_CHUNK_SIZE,
            dedupe: true,
            allow_markers: true,
            max_decode_depth: if full_decode { 0 } else { 2 },
            n_rules,
            required,
            has_composites,
        })
    }

    /// The scanner with the default ruleset.
    pub fn with_default_rules() -> Scanner {
        Scanner::new(RuleSet::default_rules()).expect("default rules compile")
    }

    /// The rule set in use.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Change the chunk size used to split large inputs (mostly for tests).
    pub fn set_chunk_size(&mut self, size: usize) {
        self.chunk_size = size.max(1024);
    }

    /// Which rules apply to a file at `path` (empty path: standard input, all content
    /// rules), or `None` when a global allowlist excludes the whole path.
    pub(crate) fn active_rules(&self, path: &str) -> Option<Vec<bool>> {
        if self
            .rules
            .allowlists
            .iter()
            .any(|a| a.target_rules.is_empty() && a.allows_path(path))
        {
            return None;
        }
        Some(
            self.rules
                .rules
                .iter()
                .map(|r| {
                    if r.regex.is_none() {
                        return false;
                    }
                    if let Some(p) = &r.path
                        && !p.is_match(path.as_bytes())
                    {
                        return false;
                    }
                    !r.allowlists.iter().any(|a| a.allows_path(path))
                        && !self
                            .rules
                            .allowlists
                            .iter()
                            .any(|a| a.target_rules.contains(&r.id) && a.allows_path(path))
                })
                .collect(),
        )
    }

    /// Path-only rules (a `path` and no `regex`) that match this path.
    pub(crate) fn path_only_findings(&self, path: &str) -> Vec<Finding> {
        if path.is_empty() {
            return Vec::new();
        }
        self.rules
            .rules
            .iter()
            .filter(|r| {
                r.regex.is_none() && r.path.as_ref().is_some_and(|p| p.is_match(path.as_bytes()))
            })
            .map(|r| Finding::new_path_only(r, path))
            .collect()
    }

    /// Scan `data[region]`, reporting matches that start inside `own`; encoded segments
    /// are decoded `depth` levels deep.
    pub(crate) fn scan_chunk(
        &self,
        data: &[u8],
        region: Range<usize>,
        own: Range<usize>,
        path: &str,
        active: &[bool],
        depth: usize,
    ) -> Vec<Hit> {
        let n_rules = self.n_rules;
        let mut decode_wins: Vec<(usize, usize)> = Vec::new();
        let mut windows: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n_rules];
        let mut fragment = vec![false; n_rules];
        for &r in &self.always {
            fragment[r] = active[r];
        }
        if !self.prefilter.is_empty() {
            let hay = &data[region.clone()];
            SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                self.prefilter
                    .for_each_hit(hay, &mut scratch, |rules, s, e| {
                        let (ks, ke) = (region.start + s, region.start + e);
                        for &r in rules {
                            if r >= n_rules {
                                if depth > 0 {
                                    let (ws, mut we) = line_bounds(data, region.clone(), ks, ke);
                                    if DECODE_TRIGGERS[r - n_rules].0.starts_with("kind") {
                                        we = (we + BLOCK_WINDOW_AFTER).min(region.end);
                                    }
                                    match decode_wins.last_mut() {
                                        Some(last) if ws >= last.0 && ws <= last.1 => {
                                            last.1 = last.1.max(we)
                                        }
                                        _ => decode_wins.push((ws, we)),
                                    }
                                }
                                continue;
                            }
                            if !active[r] {
                                continue;
                            }
                            let rule = &self.rules.rules[r];
                            if rule.window == Window::Fragment {
                                fragment[r] = true;
                                continue;
                            }
                            let wins = &mut windows[r];
                            // A hit inside the previous window adds nothing, except for a
                            // block rule: its match may end beyond that window.
                            if let Some(last) = wins.last()
                                && ks >= last.0
                                && ke <= last.1
                                && rule.window == Window::Line
                            {
                                continue;
                            }
                            if let Some(c) = &rule.confirm
                                && !confirmed(c, data, ke, region.end)
                                && !escapes_follow(data, ke, region.end)
                            {
                                continue;
                            }
                            let lo = ks.saturating_sub(rule.window_before).max(region.start);
                            let hi = (ke + rule.window_after).min(region.end);
                            let (mut ws, mut we) = line_bounds(data, lo..hi, ks, ke);
                            if rule.window == Window::Block {
                                we = (we + BLOCK_WINDOW_AFTER).min(region.end);
                            }
                            if let Some(last) = wins.last_mut()
                                && ws <= last.1
                                && we >= last.0
                            {
                                ws = ws.min(last.0);
                                we = we.max(last.1);
                                *last = (ws, we);
                            } else {
                                wins.push((ws, we));
                            }
                        }
                    });
            });
        }
        let mut hits = Vec::new();
        for r in 0..n_rules {
            if fragment[r] {
                self.run_rule(data, region.clone(), r, &own, path, &mut hits);
            } else {
                // Hits of different searches (Teddy, memmem) arrive out of order: sort and
                // merge so no byte is searched twice and no match is reported twice.
                let wins = &mut windows[r];
                wins.sort_unstable();
                let mut merged: Option<(usize, usize)> = None;
                for &(ws, we) in wins.iter() {
                    match merged {
                        Some((ms, me)) if ws <= me => merged = Some((ms, me.max(we))),
                        Some((ms, me)) => {
                            self.run_rule(data, ms..me, r, &own, path, &mut hits);
                            merged = Some((ws, we));
                        }
                        None => merged = Some((ws, we)),
                    }
                }
                if let Some((ms, me)) = merged {
                    self.run_rule(data, ms..me, r, &own, path, &mut hits);
                }
            }
        }
        if depth > 0 {
            // Everywhere in gitleaks mode, and inside text that was itself decoded (a
            // base64 value inside base64 JSON, as in a `.dockerconfigjson`).
            if self.rules.decode_everywhere || depth < self.max_decode_depth {
                decode_wins.clear();
                decode_wins.push((region.start, region.end));
            }
            // Hits of different searchers arrive out of order: sort and merge.
            decode_wins.sort_unstable();
            let mut merged: Vec<(usize, usize)> = Vec::with_capacity(decode_wins.len());
            for (ws, we) in decode_wins {
                match merged.last_mut() {
                    Some(last) if ws <= last.1 => last.1 = last.1.max(we),
                    _ => merged.push((ws, we)),
                }
            }
            for &(ws, we) in &merged {
                self.scan_encoded(data, ws..we, &own, path, active, depth, &mut hits);
            }
        }
        if self.has_composites && !hits.is_empty() {
            self.apply_composites(data, region.start, &mut hits);
        }
        if self.dedupe && hits.len() > 1 {
            match self.rules.precedence {
                crate::rules::Precedence::Order => dedupe(&mut hits),
                crate::rules::Precedence::Gitleaks => drop_generic(data, &mut hits, &self.rules),
            }
        }
        hits
    }

    /// gitleaks composite rules: keep a finding of a rule with `[[rules.required]]` only
    /// when every required rule has a finding within its `withinLines` / `withinColumns`
    /// (anywhere in the fragment when neither is given); then drop `skipReport` rules.
    fn apply_composites(&self, data: &[u8], base: usize, hits: &mut Vec<Hit>) {
        let pos: Vec<(u64, usize)> = hits
            .iter()
            .map(|h| {
                let before = &data[base.min(h.match_start)..h.match_start];
                let col = match memrchr(b'\n', before) {
                    Some(p) => before.len() - p - 1,
                    None => before.len(),
                };
                (count_newlines(before), col)
            })
            .collect();
        let keep: Vec<bool> = hits
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if self.rules.rules[h.rule].skip_report {
                    return false;
                }
                self.required[h.rule].iter().all(|&(q, lines, cols)| {
                    hits.iter().enumerate().any(|(j, o)| {
                        o.rule == q
                            && lines.is_none_or(|n| pos[i].0.abs_diff(pos[j].0) <= n as u64)
                            && cols.is_none_or(|n| pos[i].1.abs_diff(pos[j].1) <= n)
                    })
                })
            })
            .collect();
        let mut k = keep.into_iter();
        hits.retain(|_| k.next().unwrap_or(true));
    }

    /// Find base64 and hex runs in `data[win]`, decode them, scan the decoded text (one
    /// level deeper) and report what it holds at the run's place.
    #[allow(clippy::too_many_arguments)]
    fn scan_encoded(
        &self,
        data: &[u8],
        win: Range<usize>,
        own: &Range<usize>,
        path: &str,
        active: &[bool],
        depth: usize,
        out: &mut Vec<Hit>,
    ) {
        let mut i = win.start;
        while i < win.end {
            if !is_b64(data[i]) {
                i += 1;
                continue;
            }
            let s = i;
            while i < win.end && is_b64(data[i]) {
                i += 1;
            }
            let mut e = i;
            while i < win.end && data[i] == b'=' && i - e < 2 {
                i += 1;
            }
            let run = &data[s..e];
            if run.len() < MIN_BASE64 || s < own.start || s >= own.end {
                continue;
            }
            let decoded = if run.len() >= MIN_HEX && run.iter().all(u8::is_ascii_hexdigit) {
                decode_hex(run)
            } else {
                decode_base64(run)
            };
            let Some(text) = decoded else { continue };
            if i > e {
                e = i;
            }
            // As gitleaks does, the decoded text replaces the segment in its line, so
            // rules that need a name before the value (`notify_key: <base64>`) still see
            // it; only findings inside the decoded text count.
            let (ls, le) = line_bounds(data, win.clone(), s, e);
            let (before, after) = (
                &data[ls.max(s.saturating_sub(256))..s],
                &data[e..le.min(e + 256)],
            );
            let mut joined = Vec::with_capacity(before.len() + text.len() + after.len());
            joined.extend_from_slice(before);
            joined.extend_from_slice(&text);
            joined.extend_from_slice(after);
            let inside = before.len()..before.len() + text.len();
            let inner = self.scan_chunk(
                &joined,
                0..joined.len(),
                0..joined.len(),
                path,
                active,
                depth - 1,
            );
            for h in inner {
                if h.secret.end <= inside.start || h.secret.start >= inside.end {
                    continue;
                }
                let secret = h.secret_bytes(&joined).to_vec();
                out.push(Hit {
                    rule: h.rule,
                    match_start: s,
                    secret: s..e,
                    decoded: Some(secret),
                    entropy: h.entropy,
                });
            }
        }
    }

    fn run_rule(
        &self,
        data: &[u8],
        win: Range<usize>,
        r: usize,
        own: &Range<usize>,
        path: &str,
        out: &mut Vec<Hit>,
    ) {
        let rule = &self.rules.rules[r];
        let hay = &data[win.clone()];
        self.match_in(data, hay, win.start, None, r, own, path, out);
        // Escape sequences hide boundaries and assignments (`\x22ghr_…`, `token%3D…`): run
        // the regex over the decoded window too; offsets map back to the original.
        if rule.window != Window::Fragment
            && has_escapes(hay)
            && let Some((dec, map)) = unescape(hay)
        {
            self.match_in(data, &dec, win.start, Some(&map), r, own, path, out);
        }
    }

    /// Run rule `r` over `hay`, which is `data[base..]` itself (`map` = None) or a decoded
    /// copy of it whose byte `i` comes from `data[base + map[i]]`.
    #[allow(clippy::too_many_arguments)]
    fn match_in(
        &self,
        data: &[u8],
        hay: &[u8],
        base: usize,
        map: Option<&crate::decode::OffsetMap>,
        r: usize,
        own: &Range<usize>,
        path: &str,
        out: &mut Vec<Hit>,
    ) {
        let rule = &self.rules.rules[r];
        let Some(re) = &rule.regex else { return };
        let orig = |i: usize| base + map.map_or(i, |m| m.orig(i));
        for m in re.find_iter(hay) {
            let (mut ms, mut me) = (m.start(), m.end());
            // gitleaks trims newlines off the match.
            while ms < me && hay[ms] == b'\n' {
                ms += 1;
            }
            while me > ms && hay[me - 1] == b'\n' {
                me -= 1;
            }
            let (oms, ome) = (orig(ms), orig(me));
            if ms >= me || oms < own.start || oms >= own.end {
                continue;
            }
            let matched = &hay[ms..me];
            let mut secret = ms..me;
            if re.captures_len() > 1
                && let Some(caps) = re.captures(matched)
            {
                let group = if rule.secret_group > 0 {
                    caps.get(rule.secret_group)
                } else {
                    caps.iter().skip(1).flatten().find(|g| !g.is_empty())
                };
                if let Some(g) = group {
                    secret = ms + g.start()..ms + g.end();
                } else if rule.secret_group > 0 {
                    secret = ms..ms;
                }
            }
            let sbytes = &hay[secret.clone()];
            let entropy = shannon_entropy(sbytes);
            if rule.entropy > 0.0 && entropy <= rule.entropy {
                continue;
            }
            let (ls, le) = line_bounds(data, 0..data.len(), oms, ome.max(oms));
            let line = &data[ls..le];
            if self.allow_markers
                && ALLOW_MARKERS
                    .iter()
                    .any(|mk| memchr::memmem::find(line, mk.as_bytes()).is_some())
            {
                continue;
            }
            let allowed_global = self.rules.allowlists.iter().any(|a| {
                (a.target_rules.is_empty() || a.target_rules.contains(&rule.id))
                    && a.allows_finding(path, sbytes, matched, line)
            });
            if allowed_global
                || rule
                    .allowlists
                    .iter()
                    .any(|a| a.allows_finding(path, sbytes, matched, line))
            {
                continue;
            }
            let osecret = orig(secret.start)..orig(secret.end);
            let decoded =
                (map.is_some() && data[osecret.clone()] != *sbytes).then(|| sbytes.to_vec());
            out.push(Hit {
                rule: r,
                // Our rules: columns point at the secret, not at the name or boundary
                // before it; gitleaks files: at the match, as gitleaks reports.
                match_start: if osecret.is_empty()
                    || self.rules.precedence == crate::rules::Precedence::Gitleaks
                {
                    oms
                } else {
                    osecret.start.max(oms)
                },
                secret: osecret,
                decoded,
                entropy: entropy as f32,
            });
        }
    }

    /// Scan one in-memory buffer (a whole file, a memory map or a block of a stream),
    /// split into chunks scanned in parallel.
    ///
    /// `own` is the part whose findings are reported; bytes around it are context.
    /// `first_line` is the line number of `data[own.start]`; `line_start_abs` the absolute
    /// offset where that line starts and `data_abs` the absolute offset of `data[0]`.
    /// Returns the findings and the number of newlines in `own`.
    pub(crate) fn scan_buffer(
        &self,
        data: &[u8],
        own: Range<usize>,
        ctx: &BufferCtx<'_>,
    ) -> (Vec<Finding>, u64) {
        let chunks = plan_chunks(data, own.clone(), self.chunk_size);
        // Per chunk: its hits with chunk-relative line numbers and the start of their line
        // when it lies in the chunk, its newline count and last newline. Everything that
        // reads the data happens here, while the chunk is hot (and before its pages are
        // released); nothing reads outside the chunk's region.
        struct ChunkOut {
            hits: Vec<LocatedHit>,
            lines: u64,
            last_line_start: Option<usize>,
        }
        struct LocatedHit {
            rule: usize,
            rel_line: u64,
            line_start: Option<usize>,
            match_start: usize,
            entropy: f32,
            redacted: String,
            secret_hash: String,
        }
        let results: Vec<ChunkOut> = chunks
            .par_iter()
            .map(|c| {
                let region_start = if c.start == 0 || data[c.start - 1] == b'\n' {
                    c.start
                } else {
                    c.start.saturating_sub(CHUNK_OVERLAP_BACK)
                };
                let region_end = (c.end + CHUNK_OVERLAP_FWD).min(data.len());
                let mut hits = self.scan_chunk(
                    data,
                    region_start..region_end,
                    c.clone(),
                    ctx.path,
                    ctx.active,
                    self.max_decode_depth,
                );
                hits.sort_by_key(|h| h.match_start);
                let mut pos = c.start;
                let mut lines = 0u64;
                let mut line_start: Option<usize> = None;
                let located = hits
                    .into_iter()
                    .map(|h| {
                        let span = &data[pos..h.match_start];
                        lines += count_newlines(span);
                        if let Some(p) = memrchr(b'\n', span) {
                            line_start = Some(pos + p + 1);
                        }
                        pos = h.match_start;
                        let secret = h.secret_bytes(data);
                        LocatedHit {
                            rule: h.rule,
                            rel_line: lines,
                            line_start,
                            match_start: h.match_start,
                            entropy: h.entropy,
                            redacted: redact_display(secret),
                            secret_hash: secret_hash(secret),
                        }
                    })
                    .collect();
                let tail = &data[pos..c.end];
                lines += count_newlines(tail);
                if let Some(p) = memrchr(b'\n', tail) {
                    line_start = Some(pos + p + 1);
                }
                if let Some(done) = ctx.on_chunk_done {
                    done(c.clone());
                }
                ChunkOut {
                    hits: located,
                    lines,
                    last_line_start: line_start,
                }
            })
            .collect();
        let mut base = ctx.first_line;
        let mut line_start_abs = ctx.line_start_abs;
        let mut out = Vec::new();
        for chunk in results {
            for h in chunk.hits {
                let start_abs = h
                    .line_start
                    .map_or(line_start_abs, |p| ctx.data_abs + p as u64);
                let column = ctx.data_abs + h.match_start as u64 - start_abs + 1;
                out.push(Finding::new(
                    &self.rules.rules[h.rule],
                    ctx.display_path,
                    base + h.rel_line,
                    column,
                    h.entropy,
                    &h.redacted,
                    &h.secret_hash,
                ));
            }
            if let Some(p) = chunk.last_line_start {
                line_start_abs = ctx.data_abs + p as u64;
            }
            base += chunk.lines;
        }
        (out, base - ctx.first_line)
    }

    /// Scan a byte slice held in memory; `path` is used for path rules and reports.
    pub fn scan_bytes(&self, data: &[u8], path: &str) -> Vec<Finding> {
        let Some(active) = self.active_rules(path) else {
            return Vec::new();
        };
        let mut out = self.path_only_findings(path);
        let ctx = BufferCtx {
            path,
            display_path: path,
            active: &active,
            first_line: 1,
            data_abs: 0,
            line_start_abs: 0,
            on_chunk_done: None,
        };
        out.extend(self.scan_buffer(data, 0..data.len(), &ctx).0);
        out
    }

    /// Secret spans (buffer offsets) and rule indices in `data`, for redaction.
    pub(crate) fn secret_spans(&self, data: &[u8], active: &[bool]) -> Vec<(Range<usize>, usize)> {
        if data.len() <= self.chunk_size {
            // Small blocks (a pipe delivers 64 KiB at a time): no hand-off to the pool.
            let mut spans: Vec<(Range<usize>, usize)> = self
                .scan_chunk(
                    data,
                    0..data.len(),
                    0..data.len(),
                    "",
                    active,
                    self.max_decode_depth,
                )
                .into_iter()
                .map(|h| (h.secret, h.rule))
                .collect();
            spans.sort_by_key(|s| (s.0.start, s.0.end));
            return spans;
        }
        let chunks = plan_chunks(data, 0..data.len(), self.chunk_size);
        let mut spans: Vec<(Range<usize>, usize)> = chunks
            .par_iter()
            .flat_map_iter(|c| {
                let region_end = (c.end + CHUNK_OVERLAP_FWD).min(data.len());
                let rs = if c.start == 0 || data[c.start - 1] == b'\n' {
                    c.start
                } else {
                    c.start.saturating_sub(CHUNK_OVERLAP_BACK)
                };
                self.scan_chunk(
                    data,
                    rs..region_end,
                    c.clone(),
                    "",
                    active,
                    self.max_decode_depth,
                )
                .into_iter()
                .map(|h| (h.secret, h.rule))
            })
            .collect();
        spans.sort_by_key(|s| (s.0.start, s.0.end));
        spans
    }
}

/// Everything `scan_buffer` needs to know about where the buffer comes from.
pub(crate) struct BufferCtx<'a> {
    pub path: &'a str,
    pub display_path: &'a str,
    pub active: &'a [bool],
    pub first_line: u64,
    pub data_abs: u64,
    pub line_start_abs: u64,
    pub on_chunk_done: Option<&'a (dyn Fn(Range<usize>) + Sync)>,
}

fn dedupe(hits: &mut Vec<Hit>) {
    hits.sort_by_key(|h| (h.secret.start, h.rule));
    let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
    'outer: for h in hits.drain(..) {
        for k in kept.iter_mut().rev().take(16) {
            let overlap = h.secret.start < k.secret.end && k.secret.start < h.secret.end;
            if overlap {
                let longer = h.secret.len() > k.secret.len();
                if h.rule < k.rule || (h.rule == k.rule && longer) {
                    *k = h;
                }
                continue 'outer;
            }
        }
        kept.push(h);
    }
    *hits = kept;
}

/// gitleaks' precedence: drop a finding of a rule whose id says `generic` when a finding
/// of another, non-generic rule on the same line has a secret that contains its secret.
/// Everything else is kept (two specific rules may both report one secret). Exact
/// duplicates of one rule (the same secret found in the raw and in the decoded text)
/// are reported once.
fn drop_generic(data: &[u8], hits: &mut Vec<Hit>, rules: &RuleSet) {
    hits.sort_by_key(|h| (h.secret.start, h.rule));
    hits.dedup_by(|a, b| a.rule == b.rule && a.secret == b.secret);
    let generic: Vec<bool> = hits
        .iter()
        .map(|h| {
            rules.rules[h.rule]
                .id
                .to_ascii_lowercase()
                .contains("generic")
        })
        .collect();
    let line_of = |h: &Hit| memrchr(b'\n', &data[..h.match_start.min(data.len())]);
    let mut keep = vec![true; hits.len()];
    for (i, h) in hits.iter().enumerate() {
        if !generic[i] {
            continue;
        }
        let secret = h.secret_bytes(data);
        let line = line_of(h);
        keep[i] = !hits.iter().enumerate().any(|(j, o)| {
            !generic[j]
                && o.rule != h.rule
                && line_of(o) == line
                && memchr::memmem::find(o.secret_bytes(data), secret).is_some()
        });
    }
    let mut k = keep.into_iter();
    hits.retain(|_| k.next().unwrap_or(true));
}

/// A byte of the base64 alphabets (standard and URL-safe).
#[inline]
fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Escape sequences right after a keyword (`token\x22:`, `token%3D`): the `confirm`
/// check, written for plain text, cannot judge; let the regexes decide on decoded text.
fn escapes_follow(data: &[u8], at: usize, end: usize) -> bool {
    has_escapes(&data[at..end.min(at + 24)])
}

/// Bounds of the line(s) holding `[s, e)`, clamped to `LINE_REACH` and to `within`.
pub(crate) fn line_bounds(data: &[u8], within: Range<usize>, s: usize, e: usize) -> (usize, usize) {
    let lo = s.saturating_sub(LINE_REACH).max(within.start);
    let ls = match memrchr(b'\n', &data[lo..s]) {
        Some(p) => lo + p + 1,
        None => lo,
    };
    let hi = (e + LINE_REACH).min(within.end);
    let le = if e >= hi {
        e.min(within.end)
    } else {
        match memchr(b'\n', &data[e..hi]) {
            Some(p) => e + p,
            None => hi,
        }
    };
    (ls, le)
}

/// Split `own` into chunks of about `size` bytes ending at line ends where possible.
pub(crate) fn plan_chunks(data: &[u8], own: Range<usize>, size: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = own.start;
    while start < own.end {
        let target = start + size;
        let end = if target >= own.end {
            own.end
        } else {
            let hi = (target + LINE_REACH).min(own.end);
            match memchr(b'\n', &data[target..hi]) {
                Some(p) => target + p + 1,
                None => target,
            }
        };
        out.push(start..end);
        start = end;
    }
    out
}

/// Number of `\n` bytes in `data`.
pub(crate) fn count_newlines(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data).count() as u64
}

/// Does the rule's confirm DFA match at `at` (anchored)?
fn confirmed(dfa: &crate::rules::ConfirmDfa, data: &[u8], at: usize, end: usize) -> bool {
    use regex_automata::{Anchored, Input, dfa::Automaton};
    let input = Input::new(data)
        .span(at..end.min(at + 512))
        .anchored(Anchored::Yes)
        .earliest(true);
    matches!(dfa.try_search_fwd(&input), Ok(Some(_)))
}

/// Shannon entropy in bits, computed as gitleaks does (per character, divided by the
/// byte length); bytes that are not UTF-8 count as one character each.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let inv = 1.0 / data.len() as f64;
    let mut entropy = 0.0;
    match std::str::from_utf8(data) {
        Ok(s) if !s.is_ascii() => {
            let mut counts: std::collections::HashMap<char, usize> =
                std::collections::HashMap::new();
            for c in s.chars() {
                *counts.entry(c).or_default() += 1;
            }
            for &c in counts.values() {
                let f = c as f64 * inv;
                entropy -= f * f.log2();
            }
        }
        _ => {
            let mut counts = [0usize; 256];
            for &b in data {
                counts[b as usize] += 1;
            }
            for &c in counts.iter().filter(|&&c| c > 0) {
                let f = c as f64 * inv;
                entropy -= f * f.log2();
            }
        }
    }
    entropy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_matches_reference_values() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"ab") - 1.0).abs() < 1e-9);
        assert!((shannon_entropy(b"abcdefgh") - 3.0).abs() < 1e-9);
    }

    #[test]
    fn chunks_end_at_newlines() {
        let data = b"aaaa\nbbbb\ncccc\ndddd\n".repeat(100);
        let chunks = plan_chunks(&data, 0..data.len(), 64);
        assert_eq!(chunks.first().unwrap().start, 0);
        assert_eq!(chunks.last().unwrap().end, data.len());
        for w in chunks.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert_eq!(data[w[0].end - 1], b'\n');
        }
    }

    #[test]
    fn newline_count() {
        let data = b"a\nb\n".repeat(1000);
        assert_eq!(count_newlines(&data), 2000);
        assert_eq!(count_newlines(b"no newline"), 0);
    }
}
