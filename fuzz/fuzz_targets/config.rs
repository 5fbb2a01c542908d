//! The configuration file (`muster.toml`): TOML parsing plus validation.
//! Properties: loading never panics; an error's line/column point inside the text and its
//! message renders in both languages; a loaded configuration is usable: its own names
//! look themselves up, and its channel template yields valid channel names.
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use muster_core::channel::is_valid_channel_name;
use muster_core::{ChannelName, Config, Lang};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_toml(text) {
        Err(e) => {
            if let Some(line) = e.line {
                assert!(
                    line >= 1 && line <= text.lines().count().max(1) + 1,
                    "{e:?}"
                );
            }
            for lang in Lang::ALL {
                assert!(!e.message(lang).is_empty());
            }
        }
        Ok(c) => {
            for s in &c.severities {
                assert_eq!(c.severity(&s.name).map(|d| &d.name), Ok(&s.name));
            }
            assert!(c.severity(&c.default_severity).is_ok());
            for s in &c.statuses {
                assert!(c.status(&s.name).is_ok());
                for n in &s.next {
                    let _ = c.check_transition(&s.name, n);
                }
                for lang in Lang::ALL {
                    let _ = c.status_label(&s.name, lang);
                }
            }
            for name in [&c.initial_status, &c.resolved_status, &c.closed_status] {
                assert!(c.status(name).is_ok(), "{name}");
            }
            for r in &c.roles {
                assert!(c.role(&r.key).is_ok());
            }
            let date = NaiveDate::from_ymd_opt(2026, 11, 26).expect("valid date");
            let name = ChannelName::for_incident(&c.channel_template, date, "Database down")
                .expect("a title with letters names a channel");
            assert!(is_valid_channel_name(name.as_str()), "{name}");
            for attempt in [2, 99, u32::MAX] {
                let n = name.with_collision_suffix(attempt);
                assert!(is_valid_channel_name(n.as_str()), "{n}");
            }
        }
    }
});
