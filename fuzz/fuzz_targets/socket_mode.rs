//! Socket Mode: every text frame read from the WebSocket goes through
//! `SocketMessage::from_json`. Property: it never panics; an envelope always has the id
//! the ack needs and the ack carries that id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_slack::payload::{SocketMessage, socket_ack};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(SocketMessage::Envelope(env)) = SocketMessage::from_json(text) {
        let ack = socket_ack(&env.envelope_id, None);
        assert_eq!(ack["envelope_id"].as_str(), Some(env.envelope_id.as_str()));
        if let Some(r) = &env.retry_reason {
            assert!(!r.is_empty());
        }
    }
});
