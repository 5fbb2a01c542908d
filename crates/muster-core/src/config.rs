//! The configuration model: what a team may change in `muster.toml`.
//!
//! The file is parsed into a raw, spanned form and then validated into [`Config`], whose
//! lookups (`severity`, `status`, `role`, `team`) are the only way the rest of the code
//! turns a word someone typed into a lifecycle value. Missing sections fall back to the
//! built-in defaults in `default.toml`, which is also what `muster config default` prints.

use crate::DomainError;
use crate::channel::ChannelTemplate;
use crate::i18n::{Args, Lang};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use toml::Spanned;

mod care;

/// The fully commented default configuration.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// Text in both languages; French falls back to English when a team writes only English.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub en: Option<String>,
    pub fr: Option<String>,
}

impl Localized {
    pub fn get(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::En => self.en.as_deref(),
            Lang::Fr => self.fr.as_deref().or(self.en.as_deref()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeverityDef {
    pub name: String,
    pub description: Localized,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusDef {
    pub name: String,
    pub label: Localized,
    pub next: Vec<String>,
}

impl StatusDef {
    pub fn label(&self, lang: Lang) -> &str {
        self.label.get(lang).unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleDef {
    pub key: String,
    pub aliases: Vec<String>,
    pub label: Localized,
}

impl RoleDef {
    pub fn label(&self, lang: Lang) -> &str {
        self.label.get(lang).unwrap_or(&self.key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TeamDef {
    pub key: String,
    pub name: String,
}

/// `[[people]]`: who a Muster user is in chat, so that someone who declares from the web,
/// the API or the command line can be invited to the incident's channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Person {
    /// The Muster user name, as recorded by `--by`, the web pages and API tokens.
    pub name: String,
    /// Platform (`slack`, `matrix` …) to that person's user id there.
    pub chat_ids: BTreeMap<String, String>,
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub language: Lang,
    pub database_url: String,
    pub channel_template: ChannelTemplate,
    pub meeting_base_url: String,
    pub report_template_en: Option<PathBuf>,
    pub report_template_fr: Option<PathBuf>,
    pub default_severity: String,
    pub declarer_roles: Vec<String>,
    pub severities: Vec<SeverityDef>,
    pub statuses: Vec<StatusDef>,
    pub initial_status: String,
    pub resolved_status: String,
    pub closed_status: String,
    pub roles: Vec<RoleDef>,
    pub teams: Vec<TeamDef>,
    pub server: ServerConfig,
    pub slack: Option<SlackConfig>,
    pub people: Vec<Person>,
    /// `[alerts]`: how alerts from monitoring become incidents. None: the alert endpoints
    /// answer that alerts are not configured.
    pub alerts: Option<AlertsConfig>,
    /// `[paging.pagerduty]`: page responders through PagerDuty's Events API v2.
    pub pagerduty: Option<PagerDutyConfig>,
    /// Reminders and the stale nudge (`[[reminders]]`, `[stale]`).
    pub care: crate::care::CareConfig,
}

/// What an alert does (`[[alerts.rules]] action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertAction {
    /// Open an incident.
    Declare,
    /// Post the alert in the announcement channel with Declare and Ignore buttons.
    Suggest,
    /// Record the delivery only.
    Ignore,
    /// Recorded, not declared: the alert's severity maps to no Muster severity.
    Record,
}

impl AlertAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Declare => "declare",
            AlertAction::Suggest => "suggest",
            AlertAction::Ignore => "ignore",
            AlertAction::Record => "record",
        }
    }
}

/// `[alerts]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertsConfig {
    /// The label whose value names the alert's severity (`severity`).
    pub severity_label: String,
    /// Label value (lowercase) -> Muster severity. Unmapped alerts are recorded, not declared.
    pub severities: BTreeMap<String, String>,
    /// The label naming the team (`team`), unless a rule names another.
    pub team_label: String,
    /// First match wins.
    pub rules: Vec<AlertRule>,
    /// `[alerts.grafana]`: Grafana's optional HMAC signature of its webhook.
    pub grafana: Option<GrafanaSignature>,
}

/// `[alerts.grafana]`: deliveries to the Alertmanager endpoint must carry Grafana's
/// hex HMAC-SHA256 of the body (of `timestamp:body` with a timestamp header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrafanaSignature {
    pub secret_env: String,
    pub secret_file: Option<PathBuf>,
    /// `X-Grafana-Alert-Signature` unless set.
    pub header: String,
    /// No default: Grafana sends none unless configured.
    pub timestamp_header: Option<String>,
}

/// `[[alerts.rules]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRule {
    /// Labels that must all have these values.
    pub matchers: BTreeMap<String, String>,
    pub action: AlertAction,
    pub team_label: Option<String>,
    /// A Muster severity that overrides the label's mapping.
    pub severity: Option<String>,
}

/// `[paging.pagerduty]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagerDutyConfig {
    /// The environment variable holding the integration's 32-character routing key.
    pub routing_key_env: String,
    pub routing_key_file: Option<PathBuf>,
    pub events_url: String,
    /// Incidents of these severities page.
    pub severities: Vec<String>,
}

/// `[slack]`: present when Muster runs a Slack app. Secrets are not here: only where to
/// read them (environment variables or files), so a config file can be shared safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackConfig {
    pub api_base_url: String,
    pub command: String,
    /// How Slack reaches Muster: request URLs, or Socket Mode connections Muster opens.
    pub transport: SlackTransport,
    /// The app-level token (`xapp-…`) for Socket Mode.
    pub app_token_env: String,
    pub app_token_file: Option<PathBuf>,
    /// Socket Mode connections kept open at once (1 to 10).
    pub socket_connections: usize,
    pub bot_token_env: String,
    pub bot_token_file: Option<PathBuf>,
    pub signing_secret_env: String,
    pub signing_secret_file: Option<PathBuf>,
    pub announcement_channels: Vec<String>,
    pub languages: Vec<Lang>,
    pub timeline_emojis: Vec<String>,
    /// Where people reach Muster's pages, for report links in Slack.
    pub public_url: Option<String>,
    pub invites: Vec<InviteRule>,
    /// How long a step claimed by a process that then died stays reserved before another
    /// worker (or the restarted process) runs it again. Running steps renew it.
    pub step_lease: std::time::Duration,
    /// What the announcement channels learn of a security incident.
    pub announce_security: AnnounceSecurity,
}

/// `[slack] announce_security`: a security incident's announcement in public channels
/// carries no title, description, team, severity or update, whatever is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnnounceSecurity {
    /// One neutral line: that an incident was declared, its number, and that it is handled
    /// in a private channel.
    #[default]
    Neutral,
    /// Nothing at all.
    None,
}

/// `[slack] transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlackTransport {
    /// Slack posts to `/slack/commands`, `/slack/interactions` and `/slack/events`
    /// (public URL, signing secret).
    #[default]
    Http,
    /// Muster opens WebSockets to Slack with an app-level token (no public URL).
    Socket,
}

/// Who to invite to an incident channel, when an incident matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRule {
    pub severities: Vec<String>,
    pub teams: Vec<String>,
    pub security: Option<bool>,
    pub users: Vec<String>,
    pub usergroups: Vec<String>,
}

impl InviteRule {
    pub fn matches(&self, severity: &str, team: Option<&str>, security: bool) -> bool {
        (self.severities.is_empty() || self.severities.iter().any(|s| s == severity))
            && (self.teams.is_empty() || team.is_some_and(|t| self.teams.iter().any(|x| x == t)))
            && self.security.is_none_or(|s| s == security)
    }
}

/// `[server]`: where `muster serve` listens and who may see what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub bind: String,
    /// Header set by a trusted reverse proxy with the signed-in user's name.
    pub proxy_user_header: Option<String>,
    /// Require a bearer token on every API call, even on loopback.
    pub require_api_token: bool,
    /// People (or `*`) allowed to see security incidents.
    pub security_viewers: Vec<String>,
    /// Requests answered at once, per kind (pages and API; Slack); more are refused (503)
    /// rather than queued, so acknowledgements stay fast.
    pub max_concurrent_requests: u32,
    /// `[server.rate_limit]`: per-source request limits.
    pub rate_limit: RateLimitConfig,
    /// Where people reach Muster (`https://muster.example.org`): its host name is accepted
    /// in `Host`, and an `https` URL makes the CSRF cookie `__Host-` and `Secure`.
    pub public_url: Option<String>,
    /// More host names (`name` or `name:port`) people use to reach Muster. Any other
    /// `Host` is refused (421), so a hostile name resolving to Muster's address (DNS
    /// rebinding) cannot read or act.
    pub allowed_hosts: Vec<String>,
    /// Peers (addresses or networks) whose `proxy_user_header` is believed. Empty with a
    /// proxy header set means loopback only (see [`ServerConfig::trusts_proxy`]).
    pub trusted_proxies: Vec<IpNet>,
}

/// An address or a network (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`), IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: std::net::IpAddr,
    pub prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        // An IPv4 peer may reach a dual-stack listener as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpNet {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: std::net::IpAddr = addr.parse().map_err(|_| ())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| ())?
            }
            Some(_) => return Err(()),
            None => max,
        };
        if prefix > max {
            return Err(());
        }
        Ok(IpNet { addr, prefix })
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            proxy_user_header: None,
            require_api_token: false,
            security_viewers: Vec::new(),
            max_concurrent_requests: 256,
            rate_limit: RateLimitConfig::default(),
            public_url: None,
            allowed_hosts: Vec::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[server.rate_limit]`: token buckets (a steady rate and a burst) keyed by source.
///
/// Pages and API are limited per client address. Slack's requests all come from Slack's
/// addresses, so `/slack/*` is limited in two ways instead: requests whose signature fails
/// are limited per address (each costs an HMAC; Slack's own never fail), and verified
/// requests per Slack workspace (team), generously.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Pages and API: requests per second per client address, and the burst allowed.
    pub per_second: u32,
    pub burst: u32,
    /// `/slack/*`: requests with a bad signature, per address.
    pub slack_bad_signature_per_second: u32,
    pub slack_bad_signature_burst: u32,
    /// `/slack/*`: verified requests per Slack workspace.
    pub slack_team_per_second: u32,
    pub slack_team_burst: u32,
    /// Most sources remembered per limiter; idle ones are forgotten first.
    pub max_sources: u32,
    /// With `proxy_user_header` set (Muster behind a trusted proxy), the client address is
    /// the last entry of this header, the one the proxy added.
    pub forwarded_for_header: String,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            per_second: 20,
            burst: 100,
            slack_bad_signature_per_second: 1,
            slack_bad_signature_burst: 20,
            slack_team_per_second: 500,
            slack_team_burst: 2000,
            max_sources: 10_000,
            forwarded_for_header: "X-Forwarded-For".into(),
        }
    }
}

impl ServerConfig {
    /// Names match exactly, case included: proxies and identity providers differ on case,
    /// and folding it could let `SEC-ALICE` in on `sec-alice`'s grant (or the reverse).
    /// Write names as the proxy sends them.
    pub fn may_see_security(&self, viewer: Option<&str>) -> bool {
        self.security_viewers
            .iter()
            .any(|v| v == "*" || viewer.is_some_and(|name| v == name))
    }

    /// Whether `proxy_user_header` is believed from this peer. With no `trusted_proxies`,
    /// only loopback: the usual proxy on the same machine.
    pub fn trusts_proxy(&self, peer: std::net::IpAddr) -> bool {
        if self.trusted_proxies.is_empty() {
            let peer = match peer {
                std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, std::net::IpAddr::V4),
                v4 => v4,
            };
            return peer.is_loopback();
        }
        self.trusted_proxies.iter().any(|n| n.contains(peer))
    }
}

/// A problem in a configuration file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub problem: ConfigProblem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    /// The TOML itself, or its shape, is wrong. Carries the parser's own words.
    Syntax(String),
    Duplicate {
        what: &'static str,
        name: String,
    },
    UnknownStatus(String),
    UnknownSeverity(String),
    UnknownRole(String),
    Empty(&'static str),
    BadTemplate(String),
    BadUrl(String),
    BadLanguage(String),
    BadBind(String),
    BadCommand(String),
    /// `[slack] transport` is neither `http` nor `socket`.
    BadTransport(String),
    /// `[slack] announce_security` is neither `neutral` nor `none`.
    BadAnnounceSecurity(String),
    /// `[slack] socket_connections` outside 1 to 10.
    BadConnections(i64),
    /// A limit that must be a whole number above zero.
    BadLimit(String),
    /// A `[[people]]` entry whose name is blank.
    EmptyPersonName,
    /// Two `[[people]]` entries with the same name, case aside.
    DuplicatePerson(String),
    /// A `[[people]]` key that is not a platform name (`[a-z][a-z0-9_-]*`).
    BadPlatform(String),
    /// A blank chat user id in `[[people]]`.
    EmptyChatId {
        person: String,
        platform: String,
    },
    /// A `[[people]] slack` value that is not a Slack user id.
    BadSlackUserId(String),
    /// A `[server] trusted_proxies` entry that is not an address or network.
    BadProxy(String),
    /// A `[server] allowed_hosts` entry that is not a host name (with an optional port).
    BadHost(String),
    /// An `[[alerts.rules]] action` that is not declare, suggest or ignore.
    BadAlertAction(String),
    /// A duration that is not whole numbers with `s`, `m`, `h` or `d`.
    BadDuration(String),
    /// A `[[reminders]] key` that is not lowercase letters, digits and `-` (or is `stale`).
    BadReminderKey(String),
    /// A `[[reminders]]` entry with neither `after` nor `every`.
    ReminderWithoutTime(String),
}

impl ConfigError {
    pub fn message(&self, lang: Lang) -> String {
        let mut a = Args::new();
        let id = match &self.problem {
            ConfigProblem::Syntax(m) => {
                a.str("detail", m.trim());
                "config-error-syntax"
            }
            ConfigProblem::Duplicate { what, name } => {
                a.str("what", *what).str("value", name);
                "config-error-duplicate"
            }
            ConfigProblem::UnknownStatus(v) => {
                a.str("value", v);
                "config-error-unknown-status"
            }
            ConfigProblem::UnknownSeverity(v) => {
                a.str("value", v);
                "config-error-unknown-severity"
            }
            ConfigProblem::UnknownRole(v) => {
                a.str("value", v);
                "config-error-unknown-role"
            }
            ConfigProblem::Empty(what) => {
                a.str("what", *what);
                "config-error-empty"
            }
            ConfigProblem::BadTemplate(v) => {
                a.str("value", v);
                "config-error-bad-template"
            }
            ConfigProblem::BadUrl(v) => {
                a.str("value", v);
                "config-error-bad-url"
            }
            ConfigProblem::BadLanguage(v) => {
                a.str("value", v);
                "config-error-bad-language"
            }
            ConfigProblem::BadBind(v) => {
                a.str("value", v);
                "config-error-bad-bind"
            }
            ConfigProblem::BadCommand(v) => {
                a.str("value", v);
                "config-error-bad-command"
            }
            ConfigProblem::BadTransport(v) => {
                a.str("value", v);
                "config-error-bad-transport"
            }
            ConfigProblem::BadAnnounceSecurity(v) => {
                a.str("value", v);
                "config-error-bad-announce-security"
            }
            ConfigProblem::BadConnections(n) => {
                a.num("value", *n);
                "config-error-bad-connections"
            }
            ConfigProblem::BadLimit(v) => {
                a.str("value", v);
                "config-error-bad-limit"
            }
            ConfigProblem::EmptyPersonName => "config-error-empty-person-name",
            ConfigProblem::DuplicatePerson(v) => {
                a.str("value", v);
                "config-error-duplicate-person"
            }
            ConfigProblem::BadPlatform(v) => {
                a.str("value", v);
                "config-error-bad-platform"
            }
            ConfigProblem::EmptyChatId { person, platform } => {
                a.str("person", person).str("platform", platform);
                "config-error-empty-chat-id"
            }
            ConfigProblem::BadSlackUserId(v) => {
                a.str("value", v);
                "config-error-bad-slack-user-id"
            }
            ConfigProblem::BadProxy(v) => {
                a.str("value", v);
                "config-error-bad-proxy"
            }
            ConfigProblem::BadHost(v) => {
                a.str("value", v);
                "config-error-bad-host"
            }
            ConfigProblem::BadAlertAction(v) => {
                a.str("value", v);
                "config-error-bad-alert-action"
            }
            ConfigProblem::BadDuration(v) => {
                a.str("value", v);
                "config-error-bad-duration"
            }
            ConfigProblem::BadReminderKey(v) => {
                a.str("value", v);
                "config-error-bad-reminder-key"
            }
            ConfigProblem::ReminderWithoutTime(v) => {
                a.str("value", v);
                "config-error-reminder-without-time"
            }
        };
        let body = lang.format(id, &a);
        match (self.line, self.column) {
            (Some(l), Some(c)) => lang.format(
                "config-error-at",
                Args::new()
                    .num("line", l as i64)
                    .num("column", c as i64)
                    .str("message", body),
            ),
            _ => body,
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    language: Option<Spanned<String>>,
    default_severity: Option<Spanned<String>>,
    declarer_roles: Option<Vec<Spanned<String>>>,
    database: Option<RawDatabase>,
    channel: Option<RawChannel>,
    meeting: Option<RawMeeting>,
    report: Option<RawReport>,
    severities: Option<Vec<RawSeverity>>,
    lifecycle: Option<RawLifecycle>,
    roles: Option<Vec<RawRole>>,
    teams: Option<Vec<RawTeam>>,
    server: Option<RawServer>,
    slack: Option<RawSlack>,
    people: Option<Vec<RawPerson>>,
    alerts: Option<RawAlerts>,
    paging: Option<RawPaging>,
    reminders: Option<Vec<care::RawReminder>>,
    stale: Option<care::RawStale>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    severity_label: Option<String>,
    team_label: Option<String>,
    #[serde(default)]
    severities: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    rules: Vec<RawAlertRule>,
    grafana: Option<RawGrafana>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrafana {
    secret_env: Option<String>,
    secret_file: Option<PathBuf>,
    header: Option<String>,
    timestamp_header: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlertRule {
    #[serde(default, rename = "match")]
    matchers: BTreeMap<String, String>,
    action: Option<Spanned<String>>,
    team_label: Option<String>,
    severity: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaging {
    pagerduty: Option<RawPagerDuty>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPagerDuty {
    routing_key_env: Option<String>,
    routing_key_file: Option<PathBuf>,
    events_url: Option<Spanned<String>>,
    severities: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlack {
    api_base_url: Option<Spanned<String>>,
    command: Option<Spanned<String>>,
    transport: Option<Spanned<String>>,
    announce_security: Option<Spanned<String>>,
    app_token_env: Option<String>,
    app_token_file: Option<PathBuf>,
    socket_connections: Option<Spanned<i64>>,
    bot_token_env: Option<String>,
    bot_token_file: Option<PathBuf>,
    signing_secret_env: Option<String>,
    signing_secret_file: Option<PathBuf>,
    #[serde(default)]
    announcement_channels: Vec<String>,
    languages: Option<Vec<Spanned<String>>>,
    timeline_emojis: Option<Vec<String>>,
    public_url: Option<Spanned<String>>,
    step_lease_seconds: Option<u16>,
    #[serde(default)]
    invite: Vec<RawInvite>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInvite {
    #[serde(default)]
    severities: Vec<Spanned<String>>,
    #[serde(default)]
    teams: Vec<String>,
    security: Option<bool>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    usergroups: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    bind: Option<Spanned<String>>,
    proxy_user_header: Option<String>,
    require_api_token: Option<bool>,
    security_viewers: Option<Vec<String>>,
    max_concurrent_requests: Option<Spanned<u32>>,
    rate_limit: Option<RawRateLimit>,
    public_url: Option<Spanned<String>>,
    allowed_hosts: Option<Vec<Spanned<String>>>,
    trusted_proxies: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    enabled: Option<bool>,
    per_second: Option<Spanned<u32>>,
    burst: Option<Spanned<u32>>,
    slack_bad_signature_per_second: Option<Spanned<u32>>,
    slack_bad_signature_burst: Option<Spanned<u32>>,
    slack_team_per_second: Option<Spanned<u32>>,
    slack_team_burst: Option<Spanned<u32>>,
    max_sources: Option<Spanned<u32>>,
    forwarded_for_header: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    template: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeeting {
    base_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    template_en: Option<PathBuf>,
    template_fr: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeverity {
    name: Spanned<String>,
    #[serde(default)]
    description: Localized,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLifecycle {
    initial: Spanned<String>,
    resolved: Spanned<String>,
    closed: Spanned<String>,
    statuses: Vec<RawStatus>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatus {
    name: Spanned<String>,
    #[serde(default)]
    label: Localized,
    #[serde(default)]
    next: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    key: Spanned<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    label: Localized,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeam {
    key: Spanned<String>,
    name: Option<String>,
}

/// A `[[people]]` entry: `name`, and every other key a chat platform with the person's id
/// there.
///
/// Read by hand rather than with `#[serde(flatten)]` into a map: flatten buffers the values
/// before handing them on, which loses toml's spans ("expected a spanned value"), and it
/// cannot be combined with `deny_unknown_fields`. Here every key and value keeps its span,
/// so a bad platform name is reported where the key is, and the pairs stay in file order,
/// so the first problem in the file is the one reported.
struct RawPerson {
    name: Spanned<String>,
    chat_ids: Vec<(Spanned<String>, Spanned<String>)>,
}

impl<'de> Deserialize<'de> for RawPerson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawPerson;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table with a name and chat user ids")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawPerson, A::Error> {
                let mut name = None;
                let mut chat_ids = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<Spanned<String>>()?;
                    if key.get_ref() == "name" {
                        name = Some(value);
                    } else {
                        chat_ids.push((key, value));
                    }
                }
                let name = name.ok_or_else(|| serde::de::Error::missing_field("name"))?;
                Ok(RawPerson { name, chat_ids })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Normalise a word for lookups: case, spaces, hyphens and underscores do not matter.
fn norm(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

struct Locator<'a>(&'a str);

impl Locator<'_> {
    fn at(&self, offset: usize) -> (usize, usize) {
        let before = &self.0[..offset.min(self.0.len())];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rfind('\n')
            .map_or(before.len(), |i| before.len() - i - 1)
            + 1;
        (line, column)
    }
    fn err<T>(&self, spanned: &Spanned<T>, problem: ConfigProblem) -> ConfigError {
        let (line, column) = self.at(spanned.span().start);
        ConfigError {
            line: Some(line),
            column: Some(column),
            problem,
        }
    }
    fn duplicate<T>(&self, spanned: &Spanned<T>, what: &'static str, name: String) -> ConfigError {
        self.err(spanned, ConfigProblem::Duplicate { what, name })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::from_toml(DEFAULT_TOML).expect("the built-in configuration is valid")
    }
}

impl Config {
    /// Parse and validate a configuration file's text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let loc = Locator(text);
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(s) => {
                    let (l, c) = loc.at(s.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            ConfigError {
                line,
                column,
                problem: ConfigProblem::Syntax(e.message().to_owned()),
            }
        })?;
        let defaults: Option<RawConfig> = if std::ptr::eq(text, DEFAULT_TOML) {
            None
        } else {
            Some(toml::from_str(DEFAULT_TOML).expect("built-in configuration parses"))
        };
        Self::validate(raw, defaults, &loc)
    }

    fn validate(
        raw: RawConfig,
        defaults: Option<RawConfig>,
        loc: &Locator<'_>,
    ) -> Result<Config, ConfigError> {
        let raw = with_defaults(raw, defaults);
        // A file with several problems is told about the first one met in this order.
        let server = validate_server(raw.server, loc)?;
        let language = validate_language(raw.language, loc)?;
        let database_url = raw
            .database
            .and_then(|d| d.url)
            .unwrap_or_else(|| "sqlite://muster.db".to_owned());
        let channel_template = validate_channel(raw.channel, loc)?;
        let meeting_base_url = validate_meeting(raw.meeting, loc)?;
        let severities = validate_severities(raw.severities.unwrap_or_default(), loc)?;
        let default_severity = validate_default_severity(raw.default_severity, &severities, loc)?;
        let lifecycle = validate_lifecycle(raw.lifecycle, loc)?;
        let roles = validate_roles(raw.roles.unwrap_or_default(), loc)?;
        let declarer_roles =
            validate_declarer_roles(raw.declarer_roles.unwrap_or_default(), &roles, loc)?;
        let teams = validate_teams(raw.teams.unwrap_or_default(), loc)?;
        let slack = raw
            .slack
            .map(|s| validate_slack(s, &severities, loc))
            .transpose()?;
        let people = validate_people(raw.people.unwrap_or_default(), loc)?;
        let alerts = raw
            .alerts
            .map(|a| validate_alerts(a, &severities, loc))
            .transpose()?;
        let pagerduty = raw
            .paging
            .and_then(|p| p.pagerduty)
            .map(|p| validate_pagerduty(p, &severities, loc))
            .transpose()?;
        let care = care::validate_care(
            raw.reminders,
            raw.stale,
            &severities,
            &lifecycle.statuses,
            &roles,
            loc,
        )?;
        let (report_template_en, report_template_fr) = raw
            .report
            .map_or((None, None), |r| (r.template_en, r.template_fr));

        Ok(Config {
            slack,
            language,
            database_url,
            channel_template,
            meeting_base_url,
            report_template_en,
            report_template_fr,
            default_severity,
            declarer_roles,
            severities,
            statuses: lifecycle.statuses,
            initial_status: lifecycle.initial,
            resolved_status: lifecycle.resolved,
            closed_status: lifecycle.closed,
            roles,
            teams,
            server,
            people,
            alerts,
            pagerduty,
            care,
        })
    }

    pub fn severity(&self, given: &str) -> Result<&SeverityDef, DomainError> {
        self.severities
            .iter()
            .find(|s| norm(&s.name) == norm(given))
            .ok_or_else(|| DomainError::UnknownSeverity {
                given: given.trim().to_owned(),
                valid: self.severities.iter().map(|s| s.name.clone()).collect(),
            })
    }

    /// Find a status by its name, in any case, or by its label in any language.
    pub fn status(&self, given: &str) -> Result<&StatusDef, DomainError> {
        let g = norm(given);
        self.statuses
            .iter()
            .find(|s| norm(&s.name) == g || Lang::ALL.iter().any(|l| norm(s.label(*l)) == g))
            .ok_or_else(|| DomainError::UnknownStatus {
                given: given.trim().to_owned(),
                valid: self.statuses.iter().map(|s| s.name.clone()).collect(),
            })
    }

    pub fn role(&self, given: &str) -> Result<&RoleDef, DomainError> {
        let g = norm(given);
        self.roles
            .iter()
            .find(|r| norm(&r.key) == g || r.aliases.iter().any(|a| norm(a) == g))
            .ok_or_else(|| DomainError::UnknownRole {
                given: given.trim().to_owned(),
                valid: self.roles.iter().map(|r| r.key.clone()).collect(),
            })
    }

    /// A team is free text unless the configuration lists teams.
    pub fn team(&self, given: &str) -> Result<String, DomainError> {
        let t = given.split_whitespace().collect::<Vec<_>>().join(" ");
        if t.is_empty() {
            return Err(DomainError::EmptyText);
        }
        if self.teams.is_empty() {
            return Ok(t.chars().take(80).collect());
        }
        self.teams
            .iter()
            .find(|d| norm(&d.key) == norm(&t) || norm(&d.name) == norm(&t))
            .map(|d| d.key.clone())
            .ok_or_else(|| DomainError::UnknownTeam {
                given: t,
                valid: self.teams.iter().map(|d| d.key.clone()).collect(),
            })
    }

    /// May an incident move from `from` to `to`? Both are canonical status names.
    pub fn check_transition(&self, from: &str, to: &str) -> Result<(), DomainError> {
        if from == to {
            return Err(DomainError::AlreadyInStatus(to.to_owned()));
        }
        let allowed = self
            .statuses
            .iter()
            .find(|s| s.name == from)
            .map(|s| s.next.clone())
            .unwrap_or_default();
        if allowed.iter().any(|n| n == to) {
            Ok(())
        } else {
            Err(DomainError::TransitionNotAllowed {
                from: from.to_owned(),
                to: to.to_owned(),
                allowed,
            })
        }
    }

    pub fn status_label(&self, name: &str, lang: Lang) -> String {
        self.statuses
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.label(lang).to_owned())
            .unwrap_or_else(|| name.to_owned())
    }

    pub fn role_label(&self, key: &str, lang: Lang) -> String {
        self.roles
            .iter()
            .find(|r| r.key == key)
            .map(|r| r.label(lang).to_owned())
            .unwrap_or_else(|| key.to_owned())
    }

    /// The chat user id of the Muster user `person` on `platform` (`slack`, `matrix` …): who
    /// to invite when that person declares from the web, the API or the command line.
    pub fn chat_id(&self, person: &str, platform: &str) -> Option<&str> {
        let wanted = person_key(person);
        self.people
            .iter()
            .find(|p| person_key(&p.name) == wanted)?
            .chat_ids
            .get(platform)
            .map(String::as_str)
    }

    /// The Muster user name behind a chat user id, the reverse of [`Config::chat_id`]. Ids
    /// are compared exactly: chat platforms treat them as opaque.
    pub fn person_for_chat_id(&self, platform: &str, chat_id: &str) -> Option<&str> {
        self.people
            .iter()
            .find(|p| p.chat_ids.get(platform).is_some_and(|id| id == chat_id))
            .map(|p| p.name.as_str())
    }
}

/// The file's settings, with those it leaves out taken from the built-in defaults (`None`
/// when the file is the defaults). Spans of default values point into another text, so an
/// error in one would be a bug in default.toml, which the tests rule out.
///
/// `[server]` is not taken from the defaults because [`ServerConfig::default`] says the
/// same (tested); `[report]`, `[[teams]]`, `[slack]` and `[[people]]` are empty there.
fn with_defaults(mut raw: RawConfig, defaults: Option<RawConfig>) -> RawConfig {
    let Some(d) = defaults else {
        return raw;
    };
    // A file that defines its own severities or roles does not inherit default choices
    // among the built-in ones.
    if raw.severities.is_none() {
        raw.default_severity = raw.default_severity.or(d.default_severity);
    }
    if raw.roles.is_none() {
        raw.declarer_roles = raw.declarer_roles.or(d.declarer_roles);
    }
    raw.language = raw.language.or(d.language);
    raw.database = raw.database.or(d.database);
    raw.channel = raw.channel.or(d.channel);
    raw.meeting = raw.meeting.or(d.meeting);
    raw.severities = raw.severities.or(d.severities);
    raw.lifecycle = raw.lifecycle.or(d.lifecycle);
    raw.roles = raw.roles.or(d.roles);
    raw
}

fn validate_server(raw: Option<RawServer>, loc: &Locator<'_>) -> Result<ServerConfig, ConfigError> {
    let defaults = ServerConfig::default();
    let Some(rs) = raw else {
        return Ok(defaults);
    };
    let bind = match rs.bind {
        Some(b) if b.get_ref().parse::<std::net::SocketAddr>().is_err() => {
            return Err(loc.err(&b, ConfigProblem::BadBind(b.get_ref().clone())));
        }
        Some(b) => b.into_inner(),
        None => defaults.bind,
    };
    Ok(ServerConfig {
        bind,
        proxy_user_header: non_blank(rs.proxy_user_header),
        require_api_token: rs.require_api_token.unwrap_or(false),
        security_viewers: rs.security_viewers.unwrap_or_default(),
        max_concurrent_requests: positive(
            rs.max_concurrent_requests,
            "max_concurrent_requests",
            defaults.max_concurrent_requests,
            loc,
        )?,
        rate_limit: match rs.rate_limit {
            Some(rl) => validate_rate_limit(rl, loc)?,
            None => defaults.rate_limit,
        },
        public_url: match rs.public_url {
            Some(u) if !http_url(u.get_ref().trim()) || url_host(u.get_ref()).is_none() => {
                return Err(loc.err(&u, ConfigProblem::BadUrl(u.get_ref().clone())));
            }
            Some(u) => Some(u.into_inner().trim().to_owned()),
            None => None,
        },
        allowed_hosts: rs
            .allowed_hosts
            .unwrap_or_default()
            .into_iter()
            .map(|h| match host_name(h.get_ref()) {
                Some(v) => Ok(v),
                None => Err(loc.err(&h, ConfigProblem::BadHost(h.get_ref().clone()))),
            })
            .collect::<Result<_, _>>()?,
        trusted_proxies: rs
            .trusted_proxies
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                p.get_ref()
                    .parse::<IpNet>()
                    .map_err(|()| loc.err(&p, ConfigProblem::BadProxy(p.get_ref().clone())))
            })
            .collect::<Result<_, _>>()?,
    })
}

/// The `host[:port]` of an http(s) URL, lowercased.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url
        .trim()
        .strip_prefix("https://")
        .or_else(|| url.trim().strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    // user:password@ never names the host.
    let authority = authority.rsplit('@').next()?;
    host_name(authority)
}

/// A `Host` value as written in `allowed_hosts`: a DNS name or IP (IPv6 in brackets) with
/// an optional port, lowercased; `None` if it is anything else.
pub fn host_name(v: &str) -> Option<String> {
    let v = v.trim().to_ascii_lowercase();
    let (host, port) = if let Some(rest) = v.strip_prefix('[') {
        let (ip6, after) = rest.split_once(']')?;
        ip6.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            a => Some(a.strip_prefix(':')?),
        };
        (&v[..ip6.len() + 2], port)
    } else {
        match v.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (v.as_str(), None),
        }
    };
    let name_ok = host.starts_with('[')
        || (!host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.')));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok());
    (name_ok && port_ok).then_some(v)
}

fn validate_rate_limit(
    rl: RawRateLimit,
    loc: &Locator<'_>,
) -> Result<RateLimitConfig, ConfigError> {
    let d = RateLimitConfig::default();
    let limit = |v: Option<Spanned<u32>>, name: &str, default: u32| positive(v, name, default, loc);
    // Fields are checked in the order they are written here.
    Ok(RateLimitConfig {
        enabled: rl.enabled.unwrap_or(true),
        per_second: limit(rl.per_second, "per_second", d.per_second)?,
        burst: limit(rl.burst, "burst", d.burst)?,
        slack_bad_signature_per_second: limit(
            rl.slack_bad_signature_per_second,
            "slack_bad_signature_per_second",
            d.slack_bad_signature_per_second,
        )?,
        slack_bad_signature_burst: limit(
            rl.slack_bad_signature_burst,
            "slack_bad_signature_burst",
            d.slack_bad_signature_burst,
        )?,
        slack_team_per_second: limit(
            rl.slack_team_per_second,
            "slack_team_per_second",
            d.slack_team_per_second,
        )?,
        slack_team_burst: limit(rl.slack_team_burst, "slack_team_burst", d.slack_team_burst)?,
        max_sources: limit(rl.max_sources, "max_sources", d.max_sources)?,
        forwarded_for_header: non_blank(rl.forwarded_for_header).unwrap_or(d.forwarded_for_header),
    })
}

/// A limit the file sets, or `default`. Zero would refuse every request.
fn positive(
    v: Option<Spanned<u32>>,
    name: &str,
    default: u32,
    loc: &Locator<'_>,
) -> Result<u32, ConfigError> {
    match v {
        Some(v) if *v.get_ref() == 0 => Err(loc.err(&v, ConfigProblem::BadLimit(name.to_owned()))),
        Some(v) => Ok(v.into_inner()),
        None => Ok(default),
    }
}

/// A header name, where a blank one means "not set".
fn non_blank(v: Option<String>) -> Option<String> {
    v.map(|h| h.trim().to_owned()).filter(|h| !h.is_empty())
}

fn validate_language(raw: Option<Spanned<String>>, loc: &Locator<'_>) -> Result<Lang, ConfigError> {
    match raw {
        Some(l) => language(&l, loc),
        None => Ok(Lang::En),
    }
}

fn language(l: &Spanned<String>, loc: &Locator<'_>) -> Result<Lang, ConfigError> {
    l.get_ref()
        .parse::<Lang>()
        .map_err(|_| loc.err(l, ConfigProblem::BadLanguage(l.get_ref().clone())))
}

fn validate_channel(
    raw: Option<RawChannel>,
    loc: &Locator<'_>,
) -> Result<ChannelTemplate, ConfigError> {
    match raw.and_then(|c| c.template) {
        Some(t) => ChannelTemplate::parse(t.get_ref())
            .map_err(|_| loc.err(&t, ConfigProblem::BadTemplate(t.get_ref().clone()))),
        None => Ok(ChannelTemplate::default()),
    }
}

fn validate_meeting(raw: Option<RawMeeting>, loc: &Locator<'_>) -> Result<String, ConfigError> {
    let Some(u) = raw.and_then(|m| m.base_url) else {
        return Ok("https://meet.jit.si/".to_owned());
    };
    let v = u.get_ref().trim();
    // Room names are appended to it, so a bare scheme is no base.
    if !http_url(v) || v.len() <= "https://".len() {
        return Err(loc.err(&u, ConfigProblem::BadUrl(v.to_owned())));
    }
    Ok(with_trailing_slash(v))
}

fn http_url(v: &str) -> bool {
    (v.starts_with("https://") || v.starts_with("http://")) && !v.contains(char::is_whitespace)
}

/// A base URL that paths are appended to.
fn with_trailing_slash(v: &str) -> String {
    if v.ends_with('/') {
        v.to_owned()
    } else {
        format!("{v}/")
    }
}

fn validate_severities(
    raw: Vec<RawSeverity>,
    loc: &Locator<'_>,
) -> Result<Vec<SeverityDef>, ConfigError> {
    if raw.is_empty() {
        return Err(ConfigError {
            line: None,
            column: None,
            problem: ConfigProblem::Empty("severities"),
        });
    }
    let mut seen = HashSet::new();
    let mut defs = Vec::new();
    for s in raw {
        let name = s.name.get_ref().trim().to_owned();
        if name.is_empty() || !seen.insert(norm(&name)) {
            return Err(loc.duplicate(&s.name, "severity", name));
        }
        defs.push(SeverityDef {
            name,
            description: s.description,
        });
    }
    Ok(defs)
}

/// Without a `default_severity`, the least severe one.
fn validate_default_severity(
    raw: Option<Spanned<String>>,
    severities: &[SeverityDef],
    loc: &Locator<'_>,
) -> Result<String, ConfigError> {
    match raw {
        Some(ds) => known_severity(&ds, severities, loc),
        None => Ok(severities
            .last()
            .map(|s| s.name.clone())
            .unwrap_or_default()),
    }
}

/// The canonical name of a severity the file refers to elsewhere.
fn known_severity(
    given: &Spanned<String>,
    severities: &[SeverityDef],
    loc: &Locator<'_>,
) -> Result<String, ConfigError> {
    severities
        .iter()
        .find(|s| norm(&s.name) == norm(given.get_ref()))
        .map(|s| s.name.clone())
        .ok_or_else(|| {
            loc.err(
                given,
                ConfigProblem::UnknownSeverity(given.get_ref().clone()),
            )
        })
}

/// The validated `[lifecycle]`, every status name in it canonical.
struct Lifecycle {
    statuses: Vec<StatusDef>,
    initial: String,
    resolved: String,
    closed: String,
}

fn validate_lifecycle(
    raw: Option<RawLifecycle>,
    loc: &Locator<'_>,
) -> Result<Lifecycle, ConfigError> {
    let lifecycle = raw.ok_or(ConfigError {
        line: None,
        column: None,
        problem: ConfigProblem::Empty("lifecycle.statuses"),
    })?;
    if lifecycle.statuses.is_empty() {
        return Err(loc.err(
            &lifecycle.initial,
            ConfigProblem::Empty("lifecycle.statuses"),
        ));
    }
    let mut seen = HashSet::new();
    for s in &lifecycle.statuses {
        if s.name.get_ref().trim().is_empty() || !seen.insert(norm(s.name.get_ref())) {
            return Err(loc.duplicate(&s.name, "status", s.name.get_ref().clone()));
        }
    }
    // Statuses may be named in any case or spelling; the record keeps the listed spelling.
    let canonical = |v: &Spanned<String>| -> Result<String, ConfigError> {
        lifecycle
            .statuses
            .iter()
            .find(|s| norm(s.name.get_ref()) == norm(v.get_ref()))
            .map(|s| s.name.get_ref().trim().to_owned())
            .ok_or_else(|| loc.err(v, ConfigProblem::UnknownStatus(v.get_ref().clone())))
    };
    let initial = canonical(&lifecycle.initial)?;
    let resolved = canonical(&lifecycle.resolved)?;
    let closed = canonical(&lifecycle.closed)?;
    let mut statuses = Vec::new();
    for s in &lifecycle.statuses {
        let next = s
            .next
            .iter()
            .map(canonical)
            .collect::<Result<Vec<_>, _>>()?;
        statuses.push(StatusDef {
            name: s.name.get_ref().trim().to_owned(),
            label: s.label.clone(),
            next,
        });
    }
    Ok(Lifecycle {
        statuses,
        initial,
        resolved,
        closed,
    })
}

fn validate_roles(raw: Vec<RawRole>, loc: &Locator<'_>) -> Result<Vec<RoleDef>, ConfigError> {
    // Keys and aliases share one namespace, so a word on the command line names one role.
    let mut seen = HashSet::new();
    let mut defs = Vec::new();
    for r in raw {
        let key = r.key.get_ref().trim().to_owned();
        let mut names = vec![norm(&key)];
        names.extend(r.aliases.iter().map(|a| norm(a)));
        for n in &names {
            if n.is_empty() || !seen.insert(n.clone()) {
                return Err(loc.duplicate(&r.key, "role", key));
            }
        }
        defs.push(RoleDef {
            key,
            aliases: r.aliases,
            label: r.label,
        });
    }
    Ok(defs)
}

/// Without `declarer_roles`, the declarer gets the first role listed.
fn validate_declarer_roles(
    raw: Vec<Spanned<String>>,
    roles: &[RoleDef],
    loc: &Locator<'_>,
) -> Result<Vec<String>, ConfigError> {
    if raw.is_empty() {
        return Ok(roles.first().map(|r| r.key.clone()).into_iter().collect());
    }
    raw.iter()
        .map(|d| {
            roles
                .iter()
                .find(|r| norm(&r.key) == norm(d.get_ref()))
                .map(|r| r.key.clone())
                .ok_or_else(|| loc.err(d, ConfigProblem::UnknownRole(d.get_ref().clone())))
        })
        .collect()
}

fn validate_teams(raw: Vec<RawTeam>, loc: &Locator<'_>) -> Result<Vec<TeamDef>, ConfigError> {
    let mut seen = HashSet::new();
    let mut defs = Vec::new();
    for t in raw {
        let key = t.key.get_ref().trim().to_owned();
        if key.is_empty() || !seen.insert(norm(&key)) {
            return Err(loc.duplicate(&t.key, "team", key));
        }
        let name = t.name.unwrap_or_else(|| key.clone());
        defs.push(TeamDef { key, name });
    }
    Ok(defs)
}

fn validate_slack(
    rs: RawSlack,
    severities: &[SeverityDef],
    loc: &Locator<'_>,
) -> Result<SlackConfig, ConfigError> {
    let api_base_url = match rs.api_base_url {
        Some(u) if !http_url(u.get_ref()) => {
            return Err(loc.err(&u, ConfigProblem::BadUrl(u.get_ref().clone())));
        }
        Some(u) => with_trailing_slash(u.get_ref().trim()),
        None => "https://slack.com/api/".to_owned(),
    };
    let command = match rs.command {
        Some(c) if !c.get_ref().starts_with('/') || c.get_ref().len() < 2 => {
            return Err(loc.err(&c, ConfigProblem::BadCommand(c.get_ref().clone())));
        }
        Some(c) => c.into_inner(),
        None => "/incident".to_owned(),
    };
    let transport = match rs.transport {
        None => SlackTransport::Http,
        Some(t) => match t.get_ref().trim() {
            "http" => SlackTransport::Http,
            "socket" => SlackTransport::Socket,
            _ => return Err(loc.err(&t, ConfigProblem::BadTransport(t.get_ref().clone()))),
        },
    };
    let announce_security = match rs.announce_security {
        None => AnnounceSecurity::Neutral,
        Some(a) => match a.get_ref().trim() {
            "neutral" => AnnounceSecurity::Neutral,
            "none" => AnnounceSecurity::None,
            _ => {
                return Err(loc.err(&a, ConfigProblem::BadAnnounceSecurity(a.get_ref().clone())));
            }
        },
    };
    let socket_connections = match rs.socket_connections {
        None => 2,
        Some(n) if (1..=10).contains(n.get_ref()) => *n.get_ref() as usize,
        Some(n) => return Err(loc.err(&n, ConfigProblem::BadConnections(*n.get_ref()))),
    };
    let languages = match rs.languages {
        Some(ls) => ls
            .iter()
            .map(|l| language(l, loc))
            .collect::<Result<Vec<_>, _>>()?,
        None => vec![Lang::En, Lang::Fr],
    };
    let public_url = match rs.public_url {
        Some(u) if !http_url(u.get_ref()) => {
            return Err(loc.err(&u, ConfigProblem::BadUrl(u.get_ref().clone())));
        }
        Some(u) => Some(u.get_ref().trim_end_matches('/').to_owned()),
        None => None,
    };
    let invites = rs
        .invite
        .into_iter()
        .map(|r| validate_invite(r, severities, loc))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SlackConfig {
        api_base_url,
        command,
        transport,
        announce_security,
        app_token_env: rs
            .app_token_env
            .unwrap_or_else(|| "MUSTER_SLACK_APP_TOKEN".into()),
        app_token_file: rs.app_token_file,
        socket_connections,
        bot_token_env: rs
            .bot_token_env
            .unwrap_or_else(|| "MUSTER_SLACK_BOT_TOKEN".into()),
        bot_token_file: rs.bot_token_file,
        signing_secret_env: rs
            .signing_secret_env
            .unwrap_or_else(|| "MUSTER_SLACK_SIGNING_SECRET".into()),
        signing_secret_file: rs.signing_secret_file,
        announcement_channels: rs.announcement_channels,
        languages,
        timeline_emojis: rs
            .timeline_emojis
            .unwrap_or_else(|| vec!["floppy_disk".into(), "pushpin".into()])
            .into_iter()
            .map(|e| e.trim_matches(':').to_owned())
            .collect(),
        public_url,
        invites,
        // Renewed every third of it: below 3 s heartbeats would be too busy.
        step_lease: std::time::Duration::from_secs(
            rs.step_lease_seconds.unwrap_or(30).max(3).into(),
        ),
    })
}

fn validate_alerts(
    ra: RawAlerts,
    severities: &[SeverityDef],
    loc: &Locator<'_>,
) -> Result<AlertsConfig, ConfigError> {
    let mut map = BTreeMap::new();
    for (value, sev) in &ra.severities {
        map.insert(
            value.trim().to_lowercase(),
            known_severity(sev, severities, loc)?,
        );
    }
    let mut rules = Vec::new();
    for r in ra.rules {
        let action = match &r.action {
            None => AlertAction::Declare,
            Some(a) => match a.get_ref().trim() {
                "declare" => AlertAction::Declare,
                "suggest" => AlertAction::Suggest,
                "ignore" => AlertAction::Ignore,
                _ => return Err(loc.err(a, ConfigProblem::BadAlertAction(a.get_ref().clone()))),
            },
        };
        let severity = r
            .severity
            .as_ref()
            .map(|s| known_severity(s, severities, loc))
            .transpose()?;
        rules.push(AlertRule {
            matchers: r.matchers,
            action,
            team_label: r.team_label.filter(|t| !t.trim().is_empty()),
            severity,
        });
    }
    Ok(AlertsConfig {
        severity_label: ra
            .severity_label
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| "severity".into()),
        severities: map,
        team_label: ra
            .team_label
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| "team".into()),
        rules,
        grafana: ra.grafana.map(|g| GrafanaSignature {
            secret_env: g
                .secret_env
                .filter(|e| !e.trim().is_empty())
                .unwrap_or_else(|| "MUSTER_GRAFANA_WEBHOOK_SECRET".into()),
            secret_file: g.secret_file,
            header: g
                .header
                .filter(|h| !h.trim().is_empty())
                .unwrap_or_else(|| "X-Grafana-Alert-Signature".into()),
            timestamp_header: g.timestamp_header.filter(|h| !h.trim().is_empty()),
        }),
    })
}

fn validate_pagerduty(
    rp: RawPagerDuty,
    severities: &[SeverityDef],
    loc: &Locator<'_>,
) -> Result<PagerDutyConfig, ConfigError> {
    let events_url = match rp.events_url {
        Some(u) if !http_url(u.get_ref()) => {
            return Err(loc.err(&u, ConfigProblem::BadUrl(u.get_ref().clone())));
        }
        Some(u) => u.get_ref().trim().to_owned(),
        None => "https://events.pagerduty.com/v2/enqueue".to_owned(),
    };
    let listed = match rp.severities {
        Some(list) => list
            .iter()
            .map(|s| known_severity(s, severities, loc))
            .collect::<Result<Vec<_>, _>>()?,
        None => severities.iter().take(2).map(|s| s.name.clone()).collect(),
    };
    Ok(PagerDutyConfig {
        routing_key_env: rp
            .routing_key_env
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| "MUSTER_PAGERDUTY_ROUTING_KEY".into()),
        routing_key_file: rp.routing_key_file,
        events_url,
        severities: listed,
    })
}

fn validate_invite(
    r: RawInvite,
    severities: &[SeverityDef],
    loc: &Locator<'_>,
) -> Result<InviteRule, ConfigError> {
    Ok(InviteRule {
        severities: r
            .severities
            .iter()
            .map(|s| known_severity(s, severities, loc))
            .collect::<Result<Vec<_>, _>>()?,
        teams: r.teams,
        security: r.security,
        users: r.users,
        usergroups: r.usergroups,
    })
}

fn validate_people(raw: Vec<RawPerson>, loc: &Locator<'_>) -> Result<Vec<Person>, ConfigError> {
    let mut seen = HashSet::new();
    let mut people = Vec::new();
    for p in raw {
        let name = p.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return Err(loc.err(&p.name, ConfigProblem::EmptyPersonName));
        }
        // Lookups ignore case, so two entries differing only in case could not both be found.
        if !seen.insert(person_key(&name)) {
            return Err(loc.err(&p.name, ConfigProblem::DuplicatePerson(name)));
        }
        let mut chat_ids = BTreeMap::new();
        for (platform, id) in p.chat_ids {
            if !platform_name_ok(platform.get_ref()) {
                return Err(loc.err(
                    &platform,
                    ConfigProblem::BadPlatform(platform.get_ref().clone()),
                ));
            }
            let value = id.get_ref().trim();
            if value.is_empty() {
                return Err(loc.err(
                    &id,
                    ConfigProblem::EmptyChatId {
                        person: name,
                        platform: platform.into_inner(),
                    },
                ));
            }
            if platform.get_ref() == "slack" && !looks_like_slack_user_id(value) {
                return Err(loc.err(&id, ConfigProblem::BadSlackUserId(value.to_owned())));
            }
            chat_ids.insert(platform.into_inner(), value.to_owned());
        }
        people.push(Person { name, chat_ids });
    }
    Ok(people)
}

/// How people's names are compared: the web, tokens and `--by` may spell a name in any case.
fn person_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// `[a-z][a-z0-9_-]*`, so a platform is spelled one way in the file and in the code that
/// looks it up.
fn platform_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Slack user ids are `U…`, or `W…` on Enterprise Grid: 9 to 12 capital letters and digits.
/// A display name or an `@handle` is the usual mistake, and Slack would only refuse it when
/// an invitation is tried, during an incident.
fn looks_like_slack_user_id(id: &str) -> bool {
    (9..=12).contains(&id.len())
        && id.starts_with(['U', 'W'])
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_defaults_follow_the_reference_process() {
        let c = Config::default();
        let names: Vec<_> = c.statuses.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Open",
                "In Progress",
                "Ready to be Reviewed",
                "Reviewed",
                "Closed"
            ]
        );
        assert_eq!(c.initial_status, "Open");
        assert_eq!(c.declarer_roles, ["commander", "ops-lead"]);
        assert_eq!(c.language, Lang::En);
        assert_eq!(c.meeting_base_url, "https://meet.jit.si/");
    }

    #[test]
    fn an_empty_file_means_the_defaults() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.severities, Config::default().severities);
        let c = Config::from_toml("language = \"fr\"").unwrap();
        assert_eq!(c.language, Lang::Fr);
    }

    #[test]
    fn lookups_are_forgiving_about_case_and_spelling() {
        let c = Config::default();
        assert_eq!(c.status("in progress").unwrap().name, "In Progress");
        assert_eq!(c.status("in-progress").unwrap().name, "In Progress");
        assert_eq!(c.status("En cours").unwrap().name, "In Progress");
        assert_eq!(c.severity("sev1").unwrap().name, "SEV1");
        assert_eq!(c.role("IC").unwrap().key, "commander");
        assert_eq!(c.role("ops_lead").unwrap().key, "ops-lead");
        let e = c.severity("SEV9").unwrap_err();
        assert!(
            e.message(Lang::En).contains("SEV1, SEV2, SEV3, SEV4"),
            "{e}"
        );
    }

    #[test]
    fn transitions_follow_the_lifecycle() {
        let c = Config::default();
        assert!(c.check_transition("Open", "In Progress").is_ok());
        let e = c.check_transition("Open", "Reviewed").unwrap_err();
        assert!(matches!(e, DomainError::TransitionNotAllowed { .. }));
        assert!(e.message(Lang::En).contains("In Progress"));
        assert!(matches!(
            c.check_transition("Open", "Open"),
            Err(DomainError::AlreadyInStatus(_))
        ));
    }

    #[test]
    fn errors_say_where() {
        let text = "language = \"en\"\n\n[lifecycle]\ninitial = \"Open\"\nresolved = \"Done\"\nclosed = \"Open\"\n[[lifecycle.statuses]]\nname = \"Open\"\n";
        let e = Config::from_toml(text).unwrap_err();
        assert_eq!(e.line, Some(5));
        assert_eq!(e.problem, ConfigProblem::UnknownStatus("Done".into()));
        assert!(
            e.message(Lang::Fr).contains("ligne 5"),
            "{}",
            e.message(Lang::Fr)
        );

        let e = Config::from_toml("language = \n").unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = Config::from_toml("\n\nlanguge = \"en\"").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(
            e.message(Lang::En).contains("languge"),
            "{}",
            e.message(Lang::En)
        );
        let e = Config::from_toml("language = \"de\"").unwrap_err();
        assert_eq!(e.problem, ConfigProblem::BadLanguage("de".into()));
        let e = Config::from_toml("[channel]\ntemplate = \"{date}\"").unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = Config::from_toml("[[severities]]\nname=\"A\"\n[[severities]]\nname=\"a\"\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4));
    }

    #[test]
    fn slack_section() {
        assert!(Config::default().slack.is_none());
        let c = Config::from_toml(
            "[slack]\nannouncement_channels = [\"C1\"]\n[[slack.invite]]\nseverities = [\"sev1\"]\nusergroups = [\"S1\"]\n",
        )
        .unwrap();
        let s = c.slack.unwrap();
        assert_eq!(s.command, "/incident");
        assert_eq!(s.timeline_emojis, ["floppy_disk", "pushpin"]);
        assert!(s.invites[0].matches("SEV1", None, false));
        assert!(!s.invites[0].matches("SEV2", None, false));
        let e =
            Config::from_toml("[slack]\n[[slack.invite]]\nseverities = [\"SEV9\"]\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        let e = Config::from_toml("[slack]\ncommand = \"incident\"\n").unwrap_err();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn security_announcements_default_to_one_neutral_line() {
        let s = Config::from_toml("[slack]\n").unwrap().slack.unwrap();
        assert_eq!(s.announce_security, AnnounceSecurity::Neutral);
        let s = Config::from_toml("[slack]\nannounce_security = \"none\"\n")
            .unwrap()
            .slack
            .unwrap();
        assert_eq!(s.announce_security, AnnounceSecurity::None);
        let e = Config::from_toml("[slack]\n\nannounce_security = \"full\"\n").unwrap_err();
        assert_eq!(e.problem, ConfigProblem::BadAnnounceSecurity("full".into()));
        assert_eq!(e.line, Some(3));
        assert!(e.message(Lang::Fr).contains("announce_security"));
    }

    #[test]
    fn slack_transport() {
        let s = Config::from_toml("[slack]\n").unwrap().slack.unwrap();
        assert_eq!(s.transport, SlackTransport::Http);
        assert_eq!(s.socket_connections, 2);
        assert_eq!(s.app_token_env, "MUSTER_SLACK_APP_TOKEN");
        let s = Config::from_toml(
            "[slack]\ntransport = \"socket\"\nsocket_connections = 4\napp_token_file = \"app.token\"\n",
        )
        .unwrap()
        .slack
        .unwrap();
        assert_eq!(s.transport, SlackTransport::Socket);
        assert_eq!(s.socket_connections, 4);
        assert_eq!(
            s.app_token_file.as_deref(),
            Some(std::path::Path::new("app.token"))
        );
        let e = Config::from_toml("[slack]\ntransport = \"websocket\"\n").unwrap_err();
        assert_eq!(e.problem, ConfigProblem::BadTransport("websocket".into()));
        assert_eq!(e.line, Some(2));
        for n in [0, 11, -1] {
            let e =
                Config::from_toml(&format!("[slack]\n\nsocket_connections = {n}\n")).unwrap_err();
            assert_eq!(e.problem, ConfigProblem::BadConnections(n));
            assert_eq!(e.line, Some(3));
            for lang in [Lang::En, Lang::Fr] {
                assert!(e.message(lang).contains(&n.to_string()));
            }
        }
    }

    #[test]
    fn rate_limits_default_as_documented_and_are_checked() {
        // default.toml and the code agree, since a file's [server] replaces the default one.
        let c = Config::default();
        assert_eq!(c.server.rate_limit, RateLimitConfig::default());
        assert_eq!(c.server.max_concurrent_requests, 256);
        let c = Config::from_toml(
            "[server]\nmax_concurrent_requests = 8\n[server.rate_limit]\nenabled = false\nburst = 5\nforwarded_for_header = \"X-Real-IP\"\n",
        )
        .unwrap();
        assert_eq!(c.server.max_concurrent_requests, 8);
        assert!(!c.server.rate_limit.enabled);
        assert_eq!(c.server.rate_limit.burst, 5);
        assert_eq!(c.server.rate_limit.per_second, 20);
        assert_eq!(c.server.rate_limit.forwarded_for_header, "X-Real-IP");
        let e = Config::from_toml("[server.rate_limit]\nper_second = 0\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message(Lang::En).contains("per_second"), "{e}");
        assert!(Config::from_toml("[server.rate_limit]\nburst = -1\n").is_err());
    }

    #[test]
    fn teams_are_free_unless_listed() {
        let c = Config::default();
        assert_eq!(c.team("  notify  ").unwrap(), "notify");
        let c = Config::from_toml("[[teams]]\nkey = \"notify\"\nname = \"GC Notify\"\n").unwrap();
        assert_eq!(c.team("GC notify").unwrap(), "notify");
        assert!(matches!(
            c.team("forms"),
            Err(DomainError::UnknownTeam { .. })
        ));
    }

    /// Where each section's errors pointed before `validate` was split into one function per
    /// section, recorded from the code as it was; a file with problems in several sections
    /// still hears about the same one first.
    #[test]
    fn splitting_validate_kept_every_error_where_it_was() {
        use ConfigProblem::*;
        let dup = |what, name: &str| Duplicate {
            what,
            name: name.into(),
        };
        let cases: Vec<(&str, usize, usize, ConfigProblem)> = vec![
            ("language = \"de\"", 1, 12, BadLanguage("de".into())),
            (
                "default_severity = \"SEV9\"",
                1,
                20,
                UnknownSeverity("SEV9".into()),
            ),
            (
                "declarer_roles = [\"nobody\"]",
                1,
                19,
                UnknownRole("nobody".into()),
            ),
            (
                "[channel]\ntemplate = \"{date}\"",
                2,
                12,
                BadTemplate("{date}".into()),
            ),
            (
                "[meeting]\nbase_url = \"https://\"",
                2,
                12,
                BadUrl("https://".into()),
            ),
            (
                "[[severities]]\nname=\"A\"\n[[severities]]\nname=\"a\"\n",
                4,
                6,
                dup("severity", "a"),
            ),
            (
                "[lifecycle]\ninitial = \"Open\"\nresolved = \"Open\"\nclosed = \"Open\"\nstatuses = []\n",
                2,
                11,
                Empty("lifecycle.statuses"),
            ),
            (
                "[lifecycle]\ninitial = \"Open\"\nresolved = \"Open\"\nclosed = \"Open\"\n[[lifecycle.statuses]]\nname = \"Open\"\nnext = [\"X\"]\n",
                7,
                9,
                UnknownStatus("X".into()),
            ),
            (
                "[[roles]]\nkey = \"a\"\n[[roles]]\nkey = \"b\"\naliases=[\"a\"]\n",
                4,
                7,
                dup("role", "b"),
            ),
            (
                "[[teams]]\nkey = \"a\"\n[[teams]]\nkey = \"A\"\n",
                4,
                7,
                dup("team", "A"),
            ),
            ("[server]\nbind = \"nope\"\n", 2, 8, BadBind("nope".into())),
            (
                "[server]\nmax_concurrent_requests = 0\n",
                2,
                27,
                BadLimit("max_concurrent_requests".into()),
            ),
            (
                "[server.rate_limit]\nslack_team_burst = 0\n",
                2,
                20,
                BadLimit("slack_team_burst".into()),
            ),
            (
                "[slack]\nsocket_connections = 0\n",
                2,
                22,
                BadConnections(0),
            ),
            (
                "[slack]\nlanguages = [\"fr\", \"xx\"]\n",
                2,
                20,
                BadLanguage("xx".into()),
            ),
            (
                "[[severities]]\nname=\"A\"\n[slack]\n[[slack.invite]]\nseverities = [\"SEV1\"]\n",
                5,
                15,
                UnknownSeverity("SEV1".into()),
            ),
            // Several sections wrong at once: [server] is checked first, then the language.
            (
                "language = \"de\"\n[server]\nbind = \"nope\"\n",
                3,
                8,
                BadBind("nope".into()),
            ),
            (
                "language = \"de\"\n[channel]\ntemplate = \"x\"\n",
                1,
                12,
                BadLanguage("de".into()),
            ),
        ];
        for (text, line, column, problem) in cases {
            let e = Config::from_toml(text).unwrap_err();
            assert_eq!(
                (e.line, e.column, &e.problem),
                (Some(line), Some(column), &problem),
                "{text:?}"
            );
        }
    }

    const PEOPLE: &str = "[[people]]\nname = \"Alice\"\nslack = \"U0123ABCD\"\nmatrix = \"@alice:example.org\"\n\n[[people]]\nname = \"bob\"\nslack = \"W0123456789A\"\n";

    #[test]
    fn people_map_muster_users_to_chat_ids_and_back() {
        assert!(Config::default().people.is_empty());
        assert_eq!(Config::default().chat_id("alice", "slack"), None);
        let c = Config::from_toml(PEOPLE).unwrap();
        assert_eq!(
            c.people[0],
            Person {
                name: "Alice".into(),
                chat_ids: BTreeMap::from([
                    ("matrix".into(), "@alice:example.org".into()),
                    ("slack".into(), "U0123ABCD".into()),
                ]),
            }
        );
        // The name as --by, the web or a token spelled it.
        assert_eq!(c.chat_id("alice", "slack"), Some("U0123ABCD"));
        assert_eq!(c.chat_id("  ALICE ", "slack"), Some("U0123ABCD"));
        assert_eq!(c.chat_id("alice", "matrix"), Some("@alice:example.org"));
        assert_eq!(c.chat_id("bob", "slack"), Some("W0123456789A"));
        assert_eq!(c.chat_id("bob", "matrix"), None);
        assert_eq!(c.chat_id("carol", "slack"), None);
        assert_eq!(c.chat_id("alice", "Slack"), None);

        assert_eq!(c.person_for_chat_id("slack", "U0123ABCD"), Some("Alice"));
        assert_eq!(c.person_for_chat_id("slack", "W0123456789A"), Some("bob"));
        assert_eq!(
            c.person_for_chat_id("matrix", "@alice:example.org"),
            Some("Alice")
        );
        assert_eq!(c.person_for_chat_id("slack", "u0123abcd"), None);
        assert_eq!(c.person_for_chat_id("matrix", "U0123ABCD"), None);
        assert_eq!(c.person_for_chat_id("slack", "U9999ZZZZ"), None);
    }

    #[test]
    fn names_and_ids_are_trimmed() {
        let c =
            Config::from_toml("[[people]]\nname = \" carol \"\nslack = \" U0123ABCD \"\n").unwrap();
        assert_eq!(c.people[0].name, "carol");
        assert_eq!(c.chat_id("Carol", "slack"), Some("U0123ABCD"));
        assert_eq!(c.person_for_chat_id("slack", "U0123ABCD"), Some("carol"));
    }

    #[test]
    fn a_person_needs_a_name() {
        let e =
            Config::from_toml("[[people]]\nname = \"  \"\nslack = \"U0123ABCD\"\n").unwrap_err();
        assert_eq!(e.problem, ConfigProblem::EmptyPersonName);
        assert_eq!((e.line, e.column), (Some(2), Some(8)));
        let e = Config::from_toml("[[people]]\nslack = \"U0123ABCD\"\n").unwrap_err();
        assert!(
            matches!(&e.problem, ConfigProblem::Syntax(m) if m.contains("name")),
            "{e}"
        );
        let e = Config::from_toml("[[people]]\nname = 7\n").unwrap_err();
        assert!(matches!(e.problem, ConfigProblem::Syntax(_)), "{e}");
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn people_are_listed_once_whatever_the_case() {
        let e =
            Config::from_toml(&format!("{PEOPLE}\n[[people]]\nname = \" ALICE \"\n")).unwrap_err();
        assert_eq!(e.problem, ConfigProblem::DuplicatePerson("ALICE".into()));
        assert_eq!((e.line, e.column), (Some(11), Some(8)));
    }

    /// A file listing alice alone, with `line` as the third line of her entry.
    fn alice_with(line: &str) -> Result<Config, ConfigError> {
        Config::from_toml(&format!("[[people]]\nname = \"alice\"\n{line}\n"))
    }

    /// The problem in such a file, with where it is.
    fn alice_problem(line: &str) -> (ConfigProblem, Option<usize>, Option<usize>) {
        let e = alice_with(line).unwrap_err();
        (e.problem, e.line, e.column)
    }

    #[test]
    fn chat_ids_are_not_blank() {
        let empty = |platform: &str| ConfigProblem::EmptyChatId {
            person: "alice".into(),
            platform: platform.into(),
        };
        assert_eq!(
            alice_problem("matrix = \" \""),
            (empty("matrix"), Some(3), Some(10))
        );
        assert_eq!(
            alice_problem("slack = \"\""),
            (empty("slack"), Some(3), Some(9))
        );
    }

    #[test]
    fn platforms_are_lowercase_words() {
        for ok in ["matrix", "m", "teams2", "google_chat", "mattermost-eu"] {
            let c = alice_with(&format!("{ok} = \"x\"")).unwrap();
            assert_eq!(c.chat_id("alice", ok), Some("x"));
        }
        for (key, written) in [
            ("Slack", "Slack"),
            ("2chat", "2chat"),
            ("_chat", "_chat"),
            ("chat.app", "\"chat.app\""),
            ("mat rix", "\"mat rix\""),
            ("", "\"\""),
            ("é", "\"é\""),
        ] {
            assert_eq!(
                alice_problem(&format!("  {written} = \"x\"")),
                (ConfigProblem::BadPlatform(key.into()), Some(3), Some(3)),
            );
        }
    }

    #[test]
    fn slack_ids_look_like_slack_user_ids() {
        for ok in ["U0123ABCD", "W0123ABCD", "U0123456789A", "UABCDEFGH"] {
            assert!(alice_with(&format!("slack = \"{ok}\"")).is_ok(), "{ok}");
        }
        for bad in [
            "alice",
            "@alice",
            "u0123abcd",
            "C0123ABCD",
            "S0123ABCD",
            "U0123ABC",
            "U0123456789AB",
            "U0123-ABCD",
            "U0123ABCÉ",
        ] {
            assert_eq!(
                alice_problem(&format!("slack = \"{bad}\"")),
                (ConfigProblem::BadSlackUserId(bad.into()), Some(3), Some(9)),
            );
        }
        // Only Slack ids have a known shape.
        let c = alice_with("matrix = \"alice\"").unwrap();
        assert_eq!(c.chat_id("alice", "matrix"), Some("alice"));
    }

    #[test]
    fn people_problems_are_told_in_both_languages() {
        // The problem, and what both languages must repeat from it.
        let problems = [
            (ConfigProblem::EmptyPersonName, vec!["[[people]]"]),
            (
                ConfigProblem::DuplicatePerson("Alice".into()),
                vec!["Alice"],
            ),
            (ConfigProblem::BadPlatform("Slack".into()), vec!["Slack"]),
            (
                ConfigProblem::EmptyChatId {
                    person: "alice".into(),
                    platform: "matrix".into(),
                },
                vec!["alice", "matrix"],
            ),
            (
                ConfigProblem::BadSlackUserId("@alice".into()),
                vec!["@alice"],
            ),
        ];
        for (problem, values) in problems {
            let e = ConfigError {
                line: Some(3),
                column: Some(9),
                problem,
            };
            let (en, fr) = (e.message(Lang::En), e.message(Lang::Fr));
            assert_ne!(en, fr);
            assert!(en.starts_with("line 3, column 9: "), "{en}");
            assert!(fr.starts_with("ligne 3, colonne 9 : "), "{fr}");
            for v in values {
                assert!(en.contains(v) && fr.contains(v), "{en} / {fr} lack {v}");
            }
        }
    }

    fn uncommented(from: &str, to: &str) -> String {
        let start = DEFAULT_TOML.find(from).expect("an example in default.toml");
        let end = start + DEFAULT_TOML[start..].find(to).expect("its end");
        DEFAULT_TOML[start..end]
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
            .collect()
    }

    #[test]
    fn the_commented_alerts_and_paging_examples_are_valid() {
        let alerts = uncommented("# [alerts]", "#\n# An Alertmanager receiver");
        let paging = uncommented("# [paging.pagerduty]", "\n\n");
        let c = Config::from_toml(&format!("{alerts}{paging}")).unwrap();
        let a = c.alerts.unwrap();
        assert_eq!(a.severities["critical"], "SEV1");
        assert_eq!(a.rules[0].action, AlertAction::Declare);
        assert_eq!(a.rules[0].severity.as_deref(), Some("SEV2"));
        let p = c.pagerduty.unwrap();
        assert_eq!(p.severities, ["SEV1", "SEV2"]);
        assert_eq!(p.routing_key_env, "MUSTER_PAGERDUTY_ROUTING_KEY");
        assert!(Config::default().alerts.is_none() && Config::default().pagerduty.is_none());
    }

    #[test]
    fn alert_and_paging_mistakes_are_located() {
        for (text, code) in [
            (
                "[alerts.severities]\ncritical = \"SEV9\"\n",
                "unknown-severity",
            ),
            ("[[alerts.rules]]\naction = \"page\"\n", "bad-alert-action"),
            ("[paging.pagerduty]\nevents_url = \"ftp://x\"\n", "bad-url"),
            (
                "[paging.pagerduty]\nseverities = [\"P1\"]\n",
                "unknown-severity",
            ),
        ] {
            let e = Config::from_toml(text).unwrap_err();
            assert_eq!(e.line, Some(2), "{text}");
            let m = e.message(Lang::En);
            let expected = match code {
                "bad-alert-action" => "not an alert action",
                "bad-url" => "ftp://x",
                _ => "not",
            };
            assert!(m.contains(expected), "{text}: {m}");
        }
    }

    #[test]
    fn the_commented_people_example_is_valid() {
        let start = DEFAULT_TOML
            .find("# [[people]]")
            .expect("an example in default.toml");
        let example: String = DEFAULT_TOML[start..]
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
            .collect();
        let c = Config::from_toml(&example).unwrap();
        assert_eq!(c.chat_id("Alice", "slack"), Some("U0123ABCD"));
        assert_eq!(
            c.person_for_chat_id("matrix", "@alice:example.org"),
            Some("alice")
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let c = Config::from_toml(
            "[server]\nproxy_user_header = \"X-User\"\ntrusted_proxies = [\"10.0.0.0/8\", \"127.0.0.1\", \"fd00::/8\"]\n",
        )
        .unwrap();
        let s = &c.server;
        for ok in ["10.1.2.3", "127.0.0.1", "fd12::1", "::ffff:10.9.9.9"] {
            assert!(s.trusts_proxy(ok.parse().unwrap()), "{ok}");
        }
        for no in ["11.0.0.1", "127.0.0.2", "fe80::1", "192.168.1.1"] {
            assert!(!s.trusts_proxy(no.parse().unwrap()), "{no}");
        }
        // None listed: loopback only.
        let d = ServerConfig::default();
        assert!(d.trusts_proxy("127.0.0.1".parse().unwrap()));
        assert!(d.trusts_proxy("::1".parse().unwrap()));
        assert!(!d.trusts_proxy("10.0.0.1".parse().unwrap()));
        for (bad, col) in [
            ("10.0.0.0/33", 20),
            ("nope", 20),
            ("::/129", 20),
            ("1.2.3.4/", 20),
        ] {
            let e = Config::from_toml(&format!("[server]\ntrusted_proxies = [\"{bad}\"]\n"))
                .unwrap_err();
            assert_eq!(e.problem, ConfigProblem::BadProxy(bad.into()));
            assert_eq!((e.line, e.column), (Some(2), Some(col)));
        }
    }

    #[test]
    fn allowed_hosts_and_public_url_are_checked() {
        let c = Config::from_toml(
            "[server]\npublic_url = \"https://Muster.Example.org/\"\nallowed_hosts = [\"incidents.internal:8443\", \"[fd00::1]\"]\n",
        )
        .unwrap();
        assert_eq!(
            c.server.public_url.as_deref(),
            Some("https://Muster.Example.org/")
        );
        assert_eq!(
            c.server.allowed_hosts,
            ["incidents.internal:8443", "[fd00::1]"]
        );
        assert_eq!(
            url_host("https://a:b@Muster.Example.org:8443/x"),
            Some("muster.example.org:8443".into())
        );
        let e = Config::from_toml("[server]\nallowed_hosts = [\"evil/x\"]\n").unwrap_err();
        assert_eq!(e.problem, ConfigProblem::BadHost("evil/x".into()));
        assert_eq!((e.line, e.column), (Some(2), Some(18)));
        let e = Config::from_toml("[server]\npublic_url = \"ftp://x\"\n").unwrap_err();
        assert_eq!(e.problem, ConfigProblem::BadUrl("ftp://x".into()));
        for bad in ["", "a:b:c", "[::1]x", "host:99999"] {
            assert_eq!(host_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn security_viewers_match_case_sensitively() {
        let c = Config::from_toml("[server]\nsecurity_viewers = [\"SEC-ALICE\"]\n").unwrap();
        assert!(c.server.may_see_security(Some("SEC-ALICE")));
        assert!(!c.server.may_see_security(Some("sec-alice")));
        assert!(!c.server.may_see_security(None));
    }
}
