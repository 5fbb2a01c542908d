//! A test harness: the real router on a temporary SQLite file, driven in-process.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use muster_core::config::Config;
use muster_engine::{Engine, SystemClock};
use muster_server::AppState;
use std::sync::Arc;
use tower::ServiceExt;

pub struct TestApp {
    pub state: AppState,
    /// The database behind the engine, to inspect what was written (adapters reach it only
    /// through the engine; tests look behind it).
    pub store: muster_store::Store,
    pub router: axum::Router,
    _dir: tempfile::TempDir,
    /// The connection's peer, as `axum::serve` records it; `None` like an in-process
    /// caller (then no proxy is trusted).
    pub peer: Option<std::net::SocketAddr>,
}

/// The address the harness says the server is bound to; requests name it in `Host`.
pub const BOUND: &str = "127.0.0.1:8080";

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    /// Status, headers and the whole body of a response.
    pub async fn read(res: Response<Body>) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
    }
}

impl TestApp {
    pub async fn new(config_toml: &str) -> TestApp {
        Self::with_loopback(config_toml, true).await
    }

    pub async fn with_loopback(config_toml: &str, loopback: bool) -> TestApp {
        Self::with_options(config_toml, loopback, muster_store::StoreOptions::default()).await
    }

    /// On a store whose database can be made read-only or full at will (and that waits
    /// only 200 ms for a lock), to see what people see when the database is in trouble.
    pub async fn with_fault(config_toml: &str) -> (TestApp, muster_store::FaultSwitch) {
        let switch = muster_store::FaultSwitch::default();
        let options = muster_store::StoreOptions::default()
            .busy_timeout(std::time::Duration::from_millis(200))
            .fault(switch.clone());
        (Self::with_options(config_toml, true, options).await, switch)
    }

    /// The database file's URL, for a second connection (another process).
    pub fn db_url(&self) -> String {
        format!("sqlite://{}/t.db", self._dir.path().display())
    }

    async fn with_options(
        config_toml: &str,
        loopback: bool,
        options: muster_store::StoreOptions,
    ) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let store = muster_store::Store::open_with(&url, options).await.unwrap();
        let config = Config::from_toml(config_toml).unwrap();
        let mut engine = Engine::new(
            store.clone(),
            Arc::new(config.clone()),
            Arc::new(SystemClock),
        );
        if config.slack.is_some() {
            engine = engine.with_chat(Arc::new(muster_slack::provision::SlackPlatform));
        }
        let state = AppState::new(engine, loopback).bound_to(BOUND.parse().unwrap());
        let router = muster_server::router(state.clone());
        TestApp {
            state,
            store,
            router,
            _dir: dir,
            peer: None,
        }
    }

    /// Send as a real client would: naming the bound address in `Host` unless the
    /// request names another.
    pub async fn send(&self, mut req: Request<Body>) -> Reply {
        if !req.headers().contains_key(header::HOST) {
            req.headers_mut()
                .insert(header::HOST, header::HeaderValue::from_static(BOUND));
        }
        self.send_raw(req).await
    }

    /// Send exactly this request (no `Host` added).
    pub async fn send_raw(&self, mut req: Request<Body>) -> Reply {
        if let Some(p) = self.peer {
            req.extensions_mut().insert(axum::extract::ConnectInfo(p));
        }
        Reply::read(self.router.clone().oneshot(req).await.unwrap()).await
    }

    /// A valid CSRF cookie and form token, read from a page as a browser would.
    pub async fn csrf(&self) -> (String, String) {
        self.csrf_for(&[]).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut b = Request::get(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    /// POST a form as a browser would: with the CSRF cookie and field it got from a page.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.form_with(path, fields, &[]).await
    }

    /// `form` with more headers (`Origin`, `Cookie`, a proxy's user header…).
    pub async fn form_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let (cookie, field) = self.csrf_for(headers).await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", field.as_str())];
        all.extend_from_slice(fields);
        self.form_raw_with(path, &all, Some(&cookie), headers).await
    }

    /// A CSRF pair for a viewer named by these headers (the token is bound to a proxy's
    /// user).
    pub async fn csrf_for(&self, headers: &[(&str, &str)]) -> (String, String) {
        let r = self.get_with("/incidents/new", headers).await;
        let cookie = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split_once('=')
                    .filter(|(k, _)| k.ends_with("muster_csrf"))
            })
            .map(|(_, v)| v.split(';').next().unwrap_or("").to_owned())
            .unwrap_or_default();
        let field = r
            .body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or_default()
            .to_owned();
        (cookie, field)
    }

    pub async fn form_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Reply {
        self.form_raw_with(path, fields, cookie, &[]).await
    }

    pub async fn form_raw_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut b =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let mut cookies: Vec<String> = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
            .map(|(_, v)| v.to_string())
            .collect();
        if let Some(c) = cookie {
            let name = if self
                .state
                .engine()
                .config()
                .server
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
            {
                "__Host-muster_csrf"
            } else {
                "muster_csrf"
            };
            cookies.push(format!("{name}={c}"));
        }
        if !cookies.is_empty() {
            b = b.header(header::COOKIE, cookies.join("; "));
        }
        for (k, v) in headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("cookie"))
        {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    pub async fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        token: Option<&str>,
    ) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.api_with(method, path, body, &headers).await
    }

    /// An API call with these headers (`Authorization`, `Host`, `X-Muster-Acting-For`…).
    pub async fn api_with(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).unwrap()).await
    }

    pub async fn declare(&self, title: &str) -> serde_json::Value {
        let r = self
            .api(
                "POST",
                "/incidents",
                Some(serde_json::json!({"title": title})),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.json()
    }
}

fn enc(s: &str) -> String {
    muster_server::percent_encode(s)
}
