//! The simulator's Socket Mode server: WebSockets on 127.0.0.1 that speak like Slack's.
//!
//! [`crate::SlackSim`] starts one; `apps.connections.open` (called with the app-level
//! token [`SIM_APP_TOKEN`]) hands out `ws://127.0.0.1:{port}/link/?ticket=…&app_id=…`
//! URLs, each good for one connection. A connection gets `hello` (with `num_connections`,
//! `debug_info` and `connection_info.app_id`), then whatever the test pushes.
//!
//! Test controls: [`SocketSim::push`] an envelope (`events_api`, `slash_commands`,
//! `interactive`) and [`SocketSim::wait_ack`] for its ack; [`SocketSim::drop_connection`]
//! (the TCP stream is closed without a WebSocket close); [`SocketSim::disconnect`] with a
//! reason (`warning`, `refresh_requested`, `link_disabled`), followed by the close Slack
//! makes after a while; [`SocketSim::redeliver`] an envelope with the next `retry_attempt`
//! on another connection. Like Slack, the server redelivers an envelope that was not
//! acked when its connection ends, on the next connection available.

use futures_util::{SinkExt, StreamExt};
use muster_core::Secret;
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// The app-level token the simulator accepts for `apps.connections.open`. A test value.
pub const SIM_APP_TOKEN: &str = "xapp-1-A0SIM0001-0000000000000-simulated";
pub const SIM_APP_ID: &str = "A0SIM0001";

/// An envelope kind Slack sends over Socket Mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeKind {
    EventsApi,
    SlashCommands,
    Interactive,
}

impl EnvelopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvelopeKind::EventsApi => "events_api",
            EnvelopeKind::SlashCommands => "slash_commands",
            EnvelopeKind::Interactive => "interactive",
        }
    }
}

/// An ack the simulator received.
#[derive(Debug, Clone, PartialEq)]
pub struct SimAck {
    pub envelope_id: String,
    /// The connection it came on.
    pub connection: u64,
    /// The response payload, if any.
    pub payload: Option<Value>,
}

enum Out {
    Text(String),
    /// Close the TCP stream without a WebSocket close frame.
    Drop,
    /// A WebSocket close frame, then the end.
    Close,
}

struct Conn {
    tx: mpsc::UnboundedSender<Out>,
    /// Envelopes sent on this connection and not acked yet.
    unacked: Vec<String>,
}

struct Envelope {
    kind: EnvelopeKind,
    payload: Value,
    attempt: u32,
    acked: bool,
}

#[derive(Default)]
struct State {
    seq: u64,
    tickets: Vec<String>,
    conns: BTreeMap<u64, Conn>,
    opened: u64,
    envelopes: BTreeMap<String, Envelope>,
    acks: Vec<SimAck>,
    /// Unacked envelopes of closed connections, for the next connection.
    pending: VecDeque<String>,
    round_robin: u64,
    link_disabled: bool,
}

struct Inner {
    addr: SocketAddr,
    state: Mutex<State>,
    changed: Notify,
}

/// The Socket Mode server. Cheap to clone.
#[derive(Clone)]
pub struct SocketSim {
    inner: Arc<Inner>,
}

impl SocketSim {
    pub(crate) async fn start() -> (SocketSim, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let inner = Arc::new(Inner {
            addr: listener.local_addr().expect("local address"),
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        });
        let sim = SocketSim { inner };
        let server = sim.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(server.clone().serve(tcp));
            }
        });
        (sim, task)
    }

    fn s(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The app-level token `apps.connections.open` accepts.
    pub fn app_token(&self) -> Secret {
        Secret::new(SIM_APP_TOKEN)
    }

    /// A fresh one-connection URL (what `apps.connections.open` answers).
    pub(crate) fn open_url(&self) -> String {
        let mut s = self.s();
        s.seq += 1;
        let ticket = format!("sim-ticket-{}", s.seq);
        s.tickets.push(ticket.clone());
        format!(
            "ws://{}/link/?ticket={ticket}&app_id={SIM_APP_ID}",
            self.inner.addr
        )
    }

    /// Open connections (those that got `hello`), by id.
    pub fn connections(&self) -> Vec<u64> {
        self.s().conns.keys().copied().collect()
    }

    /// Connections accepted since the start.
    pub fn connections_opened(&self) -> u64 {
        self.s().opened
    }

    /// URLs handed out by `apps.connections.open` since the start.
    pub fn urls_issued(&self) -> u64 {
        self.s().seq
    }

    /// Every ack received, in order.
    pub fn acks(&self) -> Vec<SimAck> {
        self.s().acks.clone()
    }

    /// Acks of this envelope (more than one if it was redelivered and acked again).
    pub fn acks_of(&self, envelope_id: &str) -> Vec<SimAck> {
        self.s()
            .acks
            .iter()
            .filter(|a| a.envelope_id == envelope_id)
            .cloned()
            .collect()
    }

    /// Whether a `link_disabled` disconnect was sent.
    pub fn link_disabled(&self) -> bool {
        self.s().link_disabled
    }

    /// Wait until `cond` holds on the server (checked at each change), or `timeout`.
    async fn wait(&self, timeout: Duration, cond: impl Fn(&State) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.changed.notified();
            if cond(&self.s()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return cond(&self.s());
            }
        }
    }

    /// Wait until exactly `n` connections are open.
    pub async fn wait_connections(&self, n: usize, timeout: Duration) -> bool {
        self.wait(timeout, |s| s.conns.len() == n).await
    }

    /// Wait until `n` connections have been accepted since the start.
    pub async fn wait_opened(&self, n: u64, timeout: Duration) -> bool {
        self.wait(timeout, |s| s.opened >= n).await
    }

    /// Wait for the first ack of an envelope.
    pub async fn wait_ack(&self, envelope_id: &str, timeout: Duration) -> Option<SimAck> {
        let found = |s: &State| {
            s.acks
                .iter()
                .find(|a| a.envelope_id == envelope_id)
                .cloned()
        };
        self.wait(timeout, |s| found(s).is_some()).await;
        found(&self.s())
    }

    /// Send an envelope on an open connection (in turn), as Slack does; answers its id.
    /// Panics when no connection is open.
    pub fn push(&self, kind: EnvelopeKind, payload: Value) -> String {
        let conn = {
            let mut s = self.s();
            let ids: Vec<u64> = s.conns.keys().copied().collect();
            assert!(!ids.is_empty(), "no Socket Mode connection is open");
            s.round_robin += 1;
            ids[(s.round_robin as usize) % ids.len()]
        };
        self.push_on(conn, kind, payload)
    }

    /// Send an envelope on this connection; answers its id.
    pub fn push_on(&self, conn: u64, kind: EnvelopeKind, payload: Value) -> String {
        let mut s = self.s();
        s.seq += 1;
        let id = format!("sim-envelope-{:04}", s.seq);
        s.envelopes.insert(
            id.clone(),
            Envelope {
                kind,
                payload,
                attempt: 0,
                acked: false,
            },
        );
        send_envelope(&mut s, conn, &id, None);
        id
    }

    /// Deliver an envelope again (acked or not) with the next `retry_attempt` and this
    /// `retry_reason`, on another open connection than `avoid` when there is one. Answers
    /// the connection used.
    pub fn redeliver(&self, envelope_id: &str, reason: &str, avoid: Option<u64>) -> u64 {
        let mut s = self.s();
        let conn = s
            .conns
            .keys()
            .copied()
            .find(|c| Some(*c) != avoid)
            .or(avoid.filter(|a| s.conns.contains_key(a)))
            .expect("no Socket Mode connection is open");
        send_envelope(&mut s, conn, envelope_id, Some(reason));
        conn
    }

    /// The connection an envelope was last sent on and not acked, if any.
    pub fn unacked_on(&self, envelope_id: &str) -> Option<u64> {
        let s = self.s();
        s.conns
            .iter()
            .find(|(_, c)| c.unacked.iter().any(|e| e == envelope_id))
            .map(|(id, _)| *id)
    }

    /// Close a connection abruptly (no WebSocket close frame), as a network failure does.
    pub fn drop_connection(&self, conn: u64) {
        if let Some(c) = self.s().conns.get(&conn) {
            let _ = c.tx.send(Out::Drop);
        }
    }

    /// Send `disconnect` with this reason, then close the connection after `close_after`
    /// (Slack closes about 10 seconds after a warning; `link_disabled` closes at once).
    pub fn disconnect(&self, conn: u64, reason: &str, close_after: Duration) {
        let tx = {
            let mut s = self.s();
            if reason == "link_disabled" {
                s.link_disabled = true;
            }
            let Some(c) = s.conns.get(&conn) else { return };
            c.tx.clone()
        };
        let msg = json!({
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "applink-sim"},
        });
        let _ = tx.send(Out::Text(msg.to_string()));
        tokio::spawn(async move {
            tokio::time::sleep(close_after).await;
            let _ = tx.send(Out::Close);
        });
    }

    async fn serve(self, tcp: tokio::net::TcpStream) {
        let mut path = String::new();
        // The handshake's callback type is tungstenite's, large error variant included.
        #[allow(clippy::result_large_err)]
        let callback = |req: &Request, resp: Response| {
            path = req.uri().to_string();
            Ok(resp)
        };
        let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
            return;
        };
        let ticket = path
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("ticket="))
            .unwrap_or_default()
            .to_owned();
        let (mut sink, mut stream) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let valid = {
            let mut s = self.s();
            let pos = s.tickets.iter().position(|t| *t == ticket);
            pos.map(|p| s.tickets.remove(p)).is_some()
        };
        if !valid {
            let _ = sink.send(Message::Close(None)).await;
            return;
        }
        let id = {
            let mut s = self.s();
            s.seq += 1;
            s.opened += 1;
            let id = s.seq;
            s.conns.insert(
                id,
                Conn {
                    tx: tx.clone(),
                    unacked: vec![],
                },
            );
            let hello = json!({
                "type": "hello",
                "num_connections": s.conns.len(),
                "debug_info": {
                    "host": "applink-sim",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": SIM_APP_ID},
            });
            let _ = tx.send(Out::Text(hello.to_string()));
            // Envelopes that lost their connection before being acked.
            while let Some(e) = s.pending.pop_front() {
                send_envelope(&mut s, id, &e, Some("timeout"));
            }
            id
        };
        self.inner.changed.notify_waiters();
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(Out::Text(t)) => {
                        if sink.send(Message::text(t)).await.is_err() {
                            break;
                        }
                    }
                    Some(Out::Close) => {
                        let _ = sink.send(Message::Close(None)).await;
                        break;
                    }
                    Some(Out::Drop) | None => break,
                },
                msg = stream.next() => match msg {
                    Some(Ok(Message::Text(t))) => self.ack(id, &t),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        {
            let mut s = self.s();
            if let Some(c) = s.conns.remove(&id) {
                for e in c.unacked {
                    if !s.pending.contains(&e) {
                        s.pending.push_back(e);
                    }
                }
            }
            // Redeliver at once when another connection is open, as Slack does.
            if let Some(&other) = s.conns.keys().next() {
                while let Some(e) = s.pending.pop_front() {
                    send_envelope(&mut s, other, &e, Some("timeout"));
                }
            }
        }
        self.inner.changed.notify_waiters();
        // Dropping the halves closes the TCP stream.
    }

    fn ack(&self, conn: u64, text: &str) {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let Some(id) = v.get("envelope_id").and_then(Value::as_str) else {
            return;
        };
        {
            let mut s = self.s();
            // Acked is acked, whichever connection it came on.
            for c in s.conns.values_mut() {
                c.unacked.retain(|e| e != id);
            }
            s.pending.retain(|e| e != id);
            if let Some(e) = s.envelopes.get_mut(id) {
                e.acked = true;
            }
            s.acks.push(SimAck {
                envelope_id: id.to_owned(),
                connection: conn,
                payload: v.get("payload").cloned(),
            });
        }
        self.inner.changed.notify_waiters();
    }

    /// Whether the envelope was acked at least once.
    pub fn is_acked(&self, envelope_id: &str) -> bool {
        self.s().envelopes.get(envelope_id).is_some_and(|e| e.acked)
    }
}

/// Send (or resend, with `retry_reason`) an envelope on a connection.
fn send_envelope(s: &mut State, conn: u64, id: &str, retry_reason: Option<&str>) {
    let Some(e) = s.envelopes.get_mut(id) else {
        return;
    };
    if retry_reason.is_some() {
        e.attempt += 1;
    }
    let accepts = match e.kind {
        EnvelopeKind::SlashCommands => true,
        EnvelopeKind::Interactive => matches!(
            e.payload.get("type").and_then(Value::as_str),
            Some("view_submission" | "block_suggestion")
        ),
        EnvelopeKind::EventsApi => false,
    };
    let mut msg = json!({
        "envelope_id": id,
        "payload": e.payload,
        "type": e.kind.as_str(),
        "accepts_response_payload": accepts,
    });
    if e.kind == EnvelopeKind::EventsApi {
        msg["retry_attempt"] = json!(e.attempt);
        msg["retry_reason"] = json!(retry_reason.unwrap_or(""));
    } else if let Some(r) = retry_reason {
        msg["retry_attempt"] = json!(e.attempt);
        msg["retry_reason"] = json!(r);
    }
    if let Some(c) = s.conns.get_mut(&conn) {
        if !c.unacked.iter().any(|u| u == id) {
            c.unacked.push(id.to_owned());
        }
        let _ = c.tx.send(Out::Text(msg.to_string()));
    }
}
