//! Where incident commands run: on the local database, or through a running server's API
//! (`--server URL --token T`, as `gh` does). Both give the same results and messages.

use crate::failure::Failure;
use muster_core::config::Config;
use muster_core::incident::{Incident, IncidentDetail};
use muster_core::report::ReportFormat;
use muster_core::{IncidentRef, Lang, Secret};
use muster_engine::{
    ActionInput, Declaration, Declared, EditInput, Engine, ImpactInput, ListQuery,
};
use muster_store::Page;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

mod care;

pub enum Backend {
    Local(Engine, Lang),
    Remote(Remote),
}

pub struct Remote {
    base: String,
    token: Option<Secret>,
    client: reqwest::Client,
    lang: Lang,
    config: Arc<Config>,
}

impl Remote {
    pub fn new(
        server: &str,
        token: Option<Secret>,
        lang: Lang,
        config: Arc<Config>,
    ) -> Result<Remote, Failure> {
        // One TLS provider for the whole binary (ring), chosen once.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| Failure::system("http_client", e.to_string()))?;
        Ok(Remote {
            base: format!("{}/api/v1", server.trim_end_matches('/')),
            token,
            client,
            lang,
            config,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<reqwest::Response, Failure> {
        self.call_as(method, path, body, None, None).await
    }

    /// A call made for someone (`--by`): the server records them, with the token's name
    /// when there is one (`carol (via deploy-bot)`), instead of dropping the name; with an
    /// `Idempotency-Key` when the same request may be sent again (a repeated scan).
    async fn call_as(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        by: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<reqwest::Response, Failure> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT_LANGUAGE, self.lang.code());
        if let Some(by) = by.filter(|b| !b.is_empty()) {
            // Percent-encoded: header values are ASCII, names need not be.
            req = req.header("X-Muster-Acting-For", url_encode(by));
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| {
            // Without the URL: it may carry credentials.
            Failure::system(
                "server_unreachable",
                format!("{}: {}", self.base, e.without_url()),
            )
        })?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        let code = v["error"]["code"]
            .as_str()
            .unwrap_or("http_error")
            .to_owned();
        let message = v["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("HTTP {status}"));
        Err(if status.is_client_error() {
            Failure::user(code, message)
        } else {
            Failure::system(code, message)
        })
    }

    async fn detail(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        self.call_as(method, path, body, Some(by), None)
            .await?
            .json()
            .await
            .map_err(|e| Failure::system("bad_response", e.to_string()))
    }
}

fn local(lang: Lang) -> impl Fn(muster_engine::EngineError) -> Failure {
    move |e| Failure::engine(&e, lang)
}

fn seg(r: IncidentRef) -> String {
    r.to_string()
}

impl Backend {
    /// The server named by `--server` if any, else the local database.
    pub async fn open(
        s: &crate::settings::Settings,
        g: &crate::Global,
    ) -> Result<Backend, Failure> {
        Ok(match &g.server {
            Some(url) => {
                Backend::Remote(Remote::new(url, g.token.clone(), s.lang, s.config.clone())?)
            }
            None => Backend::Local(s.engine().await?, s.lang),
        })
    }

    pub fn config(&self) -> &Config {
        match self {
            Backend::Local(e, _) => e.config(),
            Backend::Remote(r) => &r.config,
        }
    }

    pub async fn shutdown(&self) {
        if let Backend::Local(e, _) = self {
            e.shutdown().await;
        }
    }

    pub async fn declare(&self, d: Declaration) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.declare(d).await.map_err(local(*lang)),
            Backend::Remote(r) => {
                r.detail(
                    reqwest::Method::POST,
                    "/incidents",
                    Some(declaration_body(&d)),
                    &d.by,
                )
                .await
            }
        }
    }

    /// Declare once per `key` (visible ASCII, no spaces): on the local database under
    /// `cli:KEY`; through a server as its `Idempotency-Key`, which the server keeps per
    /// token. A repeat answers the incident the key declared.
    pub async fn declare_keyed(&self, d: Declaration, key: &str) -> Result<Declared, Failure> {
        match self {
            Backend::Local(e, lang) => e
                .declare_keyed(d, &format!("cli:{key}"))
                .await
                .map_err(local(*lang)),
            Backend::Remote(r) => {
                let res = r
                    .call_as(
                        reqwest::Method::POST,
                        "/incidents",
                        Some(declaration_body(&d)),
                        Some(&d.by),
                        Some(key),
                    )
                    .await?;
                // 201: declared now; 200: the key's incident from before.
                let fresh = res.status() == reqwest::StatusCode::CREATED;
                let detail: IncidentDetail = res
                    .json()
                    .await
                    .map_err(|e| Failure::system("bad_response", e.to_string()))?;
                Ok(if fresh {
                    Declared::New(detail)
                } else {
                    Declared::Again(detail)
                })
            }
        }
    }

    pub async fn list(&self, q: &ListQuery) -> Result<Page<Incident>, Failure> {
        match self {
            Backend::Local(e, lang) => e.list(q).await.map_err(local(*lang)),
            Backend::Remote(r) => {
                let mut params: Vec<(&str, String)> = vec![
                    ("page", q.page.to_string()),
                    ("per_page", q.per_page.to_string()),
                ];
                for (k, v) in [
                    ("status", &q.status),
                    ("severity", &q.severity),
                    ("team", &q.team),
                    ("q", &q.search),
                ] {
                    if let Some(v) = v {
                        params.push((k, v.clone()));
                    }
                }
                if q.include_drills {
                    params.push(("drills", "true".into()));
                }
                let query = params
                    .iter()
                    .map(|(k, v)| format!("{k}={}", url_encode(v)))
                    .collect::<Vec<_>>()
                    .join("&");
                // Listing what involves someone: the server shows them their own security
                // incidents as it would to them.
                let v: Value = r
                    .call_as(
                        reqwest::Method::GET,
                        &format!("/incidents?{query}"),
                        None,
                        q.involving.as_deref(),
                        None,
                    )
                    .await?
                    .json()
                    .await
                    .map_err(|e| Failure::system("bad_response", e.to_string()))?;
                let items: Vec<Incident> = serde_json::from_value(v["incidents"].clone())
                    .map_err(|e| Failure::system("bad_response", e.to_string()))?;
                Ok(Page {
                    items,
                    total: v["total"].as_u64().unwrap_or(0),
                })
            }
        }
    }

    pub async fn get(&self, id: IncidentRef) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.get(id).await.map_err(local(*lang)),
            Backend::Remote(r) => r
                .call(
                    reqwest::Method::GET,
                    &format!("/incidents/{}", seg(id)),
                    None,
                )
                .await?
                .json()
                .await
                .map_err(|e| Failure::system("bad_response", e.to_string())),
        }
    }

    /// The incident as `by` sees it (through a server: their own security incidents too).
    pub async fn get_as(&self, id: IncidentRef, by: &str) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(..) => self.get(id).await,
            Backend::Remote(r) => {
                r.detail(
                    reqwest::Method::GET,
                    &format!("/incidents/{}", seg(id)),
                    None,
                    by,
                )
                .await
            }
        }
    }

    async fn remote_post(
        &self,
        id: IncidentRef,
        tail: &str,
        body: Option<Value>,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Remote(r) => {
                r.detail(
                    reqwest::Method::POST,
                    &format!("/incidents/{}{tail}", seg(id)),
                    body,
                    by,
                )
                .await
            }
            Backend::Local(..) => unreachable!("remote_post is only called on a remote backend"),
        }
    }

    pub async fn set_status(
        &self,
        id: IncidentRef,
        status: &str,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.set_status(id, status, by).await.map_err(local(*lang)),
            Backend::Remote(_) => {
                self.remote_post(id, "/status", Some(json!({"status": status})), by)
                    .await
            }
        }
    }

    pub async fn set_severity(
        &self,
        id: IncidentRef,
        severity: &str,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.set_severity(id, severity, by).await.map_err(local(*lang)),
            Backend::Remote(_) => {
                self.remote_post(id, "/severity", Some(json!({"severity": severity})), by)
                    .await
            }
        }
    }

    pub async fn assign_role(
        &self,
        id: IncidentRef,
        role: &str,
        person: &str,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e
                .assign_role(id, role, person, by)
                .await
                .map_err(local(*lang)),
            Backend::Remote(_) => {
                self.remote_post(
                    id,
                    "/roles",
                    Some(json!({"role": role, "person": person})),
                    by,
                )
                .await
            }
        }
    }

    pub async fn add_note(
        &self,
        id: IncidentRef,
        text: &str,
        at: Option<&str>,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.add_note(id, text, at, by).await.map_err(local(*lang)),
            Backend::Remote(_) => {
                self.remote_post(id, "/timeline", Some(json!({"text": text, "at": at})), by)
                    .await
            }
        }
    }

    pub async fn post_update(
        &self,
        id: IncidentRef,
        text: &str,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.post_update(id, text, by).await.map_err(local(*lang)),
            Backend::Remote(_) => {
                self.remote_post(id, "/updates", Some(json!({"text": text})), by)
                    .await
            }
        }
    }

    pub async fn add_action(
        &self,
        id: IncidentRef,
        a: ActionInput,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.add_action(id, a, by).await.map_err(local(*lang)),
            Backend::Remote(_) => {
                let body = json!({"text": a.text, "type": a.action_type, "priority": a.priority, "owner": a.owner, "link": a.link});
                self.remote_post(id, "/actions", Some(body), by).await
            }
        }
    }

    pub async fn complete_action(
        &self,
        id: IncidentRef,
        n: i64,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.complete_action(id, n, by).await.map_err(local(*lang)),
            Backend::Remote(_) => {
                self.remote_post(id, &format!("/actions/{n}/done"), None, by)
                    .await
            }
        }
    }

    pub async fn set_impact(
        &self,
        id: IncidentRef,
        i: ImpactInput,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.set_impact(id, i, by).await.map_err(local(*lang)),
            Backend::Remote(_) => {
                let body = json!({"detected": i.detected, "started": i.started, "mitigated": i.mitigated, "ended": i.ended});
                self.remote_post(id, "/impact", Some(body), by).await
            }
        }
    }

    pub async fn edit(
        &self,
        id: IncidentRef,
        e_in: EditInput,
        by: &str,
    ) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.edit(id, e_in, by).await.map_err(local(*lang)),
            Backend::Remote(r) => {
                let narrative: serde_json::Map<String, Value> = e_in
                    .narrative
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                let body = json!({"title": e_in.title, "description": e_in.description, "team": e_in.team, "narrative": narrative});
                r.detail(
                    reqwest::Method::PATCH,
                    &format!("/incidents/{}", seg(id)),
                    Some(body),
                    by,
                )
                .await
            }
        }
    }

    pub async fn resolve(&self, id: IncidentRef, by: &str) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.resolve(id, by).await.map_err(local(*lang)),
            Backend::Remote(_) => self.remote_post(id, "/resolve", None, by).await,
        }
    }

    pub async fn close(&self, id: IncidentRef, by: &str) -> Result<IncidentDetail, Failure> {
        match self {
            Backend::Local(e, lang) => e.close(id, by).await.map_err(local(*lang)),
            Backend::Remote(_) => self.remote_post(id, "/close", None, by).await,
        }
    }

    pub async fn report(
        &self,
        id: IncidentRef,
        lang: Lang,
        format: ReportFormat,
    ) -> Result<String, Failure> {
        match self {
            Backend::Local(e, ui) => e.report(id, lang, format).await.map_err(local(*ui)),
            Backend::Remote(r) => {
                let f = match format {
                    ReportFormat::Markdown => "md",
                    ReportFormat::Html => "html",
                };
                r.call(
                    reqwest::Method::GET,
                    &format!(
                        "/incidents/{}/report?format={f}&lang={}",
                        seg(id),
                        lang.code()
                    ),
                    None,
                )
                .await?
                .text()
                .await
                .map_err(|e| Failure::system("bad_response", e.to_string()))
            }
        }
    }
}

fn declaration_body(d: &Declaration) -> Value {
    json!({"title": d.title, "severity": d.severity, "team": d.team, "security": d.security, "drill": d.drill, "description": d.description})
}

/// The server's own encoding of names in header values, so both ends agree.
fn url_encode(s: &str) -> String {
    muster_server::percent_encode(s)
}
