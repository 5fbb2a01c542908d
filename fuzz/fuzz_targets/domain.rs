//! Domain parsers fed by people: incident titles, channel names and templates, slugs,
//! incident references (`INC-7`), free text, links, typed times and `Accept-Language`.
//! Properties: none panics; a parsed title is trimmed, collapsed, within its length and
//! names a channel; `slugify` and channel templates only ever produce names Slack
//! accepts, within their budget, even after a collision suffix.
#![no_main]

use chrono::{NaiveDate, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use muster_core::channel::{
    ChannelTemplate, MAX_CHANNEL_CHARS, SUFFIX_RESERVE, is_valid_channel_name, slugify,
};
use muster_core::incident::{parse_link, parse_text};
use muster_core::time::parse_user_time;
use muster_core::title::MAX_TITLE_CHARS;
use muster_core::{ChannelName, IncidentRef, Lang, Title};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let date = NaiveDate::from_ymd_opt(2026, 11, 26).expect("valid date");

    if let Ok(t) = Title::parse(s) {
        let t = t.as_str();
        assert_eq!(t, t.trim());
        assert!(!t.contains("  "));
        assert!(t.chars().count() <= MAX_TITLE_CHARS);
        let name = ChannelName::for_incident(&ChannelTemplate::default(), date, t)
            .expect("every valid title names a channel");
        check_name(name.as_str());
    }

    for max in [0, 1, 10, MAX_CHANNEL_CHARS - SUFFIX_RESERVE, usize::MAX] {
        let slug = slugify(s, max);
        assert!(slug.len() <= max, "{slug:?} longer than {max}");
        if !slug.is_empty() {
            assert!(
                slug.len() > MAX_CHANNEL_CHARS || is_valid_channel_name(&slug),
                "{slug:?}"
            );
            assert!(!slug.starts_with('-') && !slug.ends_with('-'), "{slug:?}");
        }
    }

    if let Ok(n) = ChannelName::parse(s) {
        assert_eq!(n.as_str(), s);
        check_name(n.as_str());
    }

    // The input as a template, and as a title through a template of its own.
    if let Ok(tpl) = ChannelTemplate::parse(s)
        && let Ok(name) = ChannelName::for_incident(&tpl, date, "Leaked tokens in CI logs")
    {
        check_name(name.as_str());
    }
    if let Some((tpl, title)) = s.split_once('\n')
        && let Ok(tpl) = ChannelTemplate::parse(tpl)
        && let Ok(name) = ChannelName::for_incident(&tpl, date, title)
    {
        check_name(name.as_str());
    }

    if let Ok(r) = s.parse::<IncidentRef>() {
        // What we print, we read back.
        assert_eq!(r.to_string().parse::<IncidentRef>().ok(), Some(r));
    }
    if let Ok(t) = parse_text(s) {
        assert_eq!(t, t.trim());
    }
    if let Ok(l) = parse_link(s) {
        assert!(l.starts_with("http://") || l.starts_with("https://"));
    }
    let now = Utc
        .with_ymd_and_hms(2026, 11, 26, 14, 5, 0)
        .single()
        .expect("valid time");
    let _ = parse_user_time(s, now);
    let _ = Lang::from_accept_language(s);
    let _ = s.parse::<Lang>();
});

/// A channel name, and every collision retry of it, is valid.
fn check_name(name: &str) {
    assert!(is_valid_channel_name(name), "{name:?}");
    for attempt in [2, 10, 999, u32::MAX] {
        let n = ChannelName::parse(name)
            .expect("valid")
            .with_collision_suffix(attempt);
        assert!(is_valid_channel_name(n.as_str()), "{n}");
    }
}
