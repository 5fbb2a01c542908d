//! Server-rendered pages. Work without JavaScript; every form carries the CSRF token.

use crate::AppState;
use crate::auth::Viewer;
use crate::csrf::CsrfToken;
use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Environment, Value, context};
use muster_core::i18n::Args;
use muster_core::incident::{ActionType, IncidentDetail, ResourceKind};
use muster_core::report::ReportFormat;
use muster_core::time::display;
use muster_core::{IncidentRef, Lang};
use muster_engine::{
    ActionInput, Declaration, Declared, EditInput, EngineError, ImpactInput, ListQuery,
};
use serde::Deserialize;

mod care;

const PER_PAGE: u32 = 25;

pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    pub fn new() -> Self {
        let mut env = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("../templates/base.html")),
            ("list.html", include_str!("../templates/list.html")),
            ("declare.html", include_str!("../templates/declare.html")),
            ("incident.html", include_str!("../templates/incident.html")),
            (
                "incident/glance.html",
                include_str!("../templates/incident/glance.html"),
            ),
            (
                "incident/timeline.html",
                include_str!("../templates/incident/timeline.html"),
            ),
            (
                "incident/forms.html",
                include_str!("../templates/incident/forms.html"),
            ),
            (
                "incident/review.html",
                include_str!("../templates/incident/review.html"),
            ),
            ("macros.html", include_str!("../templates/macros.html")),
            ("confirm.html", include_str!("../templates/confirm.html")),
            ("report.html", include_str!("../templates/report.html")),
            ("stats.html", include_str!("../templates/stats.html")),
            ("message.html", include_str!("../templates/message.html")),
            ("name.html", include_str!("../templates/name.html")),
            ("care.html", include_str!("../templates/care.html")),
        ] {
            env.add_template(name, src)
                .expect("built-in page templates compile");
        }
        Pages { env }
    }

    fn render(&self, name: &str, page: &PageCtx, title: &str, ctx: Value) -> Html<String> {
        let lang = page.lang;
        let t = Value::from_function(move |id: String| lang.t(&id));
        // A message with one number: `tn("web-limit-chars", 3000)`.
        let tn = Value::from_function(move |id: String, n: i64| {
            let mut a = Args::new();
            a.num("n", n);
            lang.format(&id, &a)
        });
        let full = context! {
            ..ctx,
            ..context! {
                lang => lang.code(),
                t => t,
                tn => tn,
                csrf => page.csrf.clone(),
                viewer => page.viewer.name.clone(),
                display_name => page.viewer.acting_for.clone(),
                switch_url => page.switch_url.clone(),
                page_title => title,
            }
        };
        match self.env.get_template(name).and_then(|t| t.render(full)) {
            Ok(html) => Html(html),
            // Built-in templates are tested; a failure here is a bug, shown plainly.
            Err(e) => Html(format!(
                "<!doctype html><title>Error</title><p>{}</p>",
                muster_core::report::html_escape(&e.to_string())
            )),
        }
    }
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

/// What every page needs from the request.
pub(crate) struct PageCtx {
    lang: Lang,
    csrf: String,
    viewer: Viewer,
    switch_url: String,
}

impl PageCtx {
    pub(crate) fn viewer(&self) -> &Viewer {
        &self.viewer
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        let viewer = parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let other = match lang {
            Lang::En => "fr",
            Lang::Fr => "en",
        };
        let mut query: Vec<String> = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
            .map(str::to_owned)
            .collect();
        query.push(format!("lang={other}"));
        let switch_url = format!("{}?{}", parts.uri.path(), query.join("&"));
        Ok(PageCtx {
            lang,
            csrf,
            viewer,
            switch_url,
        })
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/incidents") }))
        .route("/assets/style.css", get(style))
        .route("/assets/live.js", get(crate::live::script))
        .route("/assets/favicon.svg", get(favicon))
        .route(
            "/favicon.ico",
            get(|| async { Redirect::permanent("/assets/favicon.svg") }),
        )
        .route("/events", get(crate::live::list_events))
        .route("/incidents/{id}/events", get(crate::live::incident_events))
        .route("/incidents/{id}/edit", post(edit))
        .route("/incidents/{id}/timeline/{seq}/edit", post(edit_note))
        .route("/incidents/{id}/timeline/{seq}/delete", post(delete_note))
        .route("/incidents/{id}/timeline/{seq}/key", post(key_moment))
        .route("/incidents", get(list).post(declare))
        .route("/incidents/new", get(new_form))
        .route("/incidents/{id}", get(show))
        .route("/incidents/{id}/report", get(report))
        .route("/incidents/{id}/report.md", get(report_md))
        .route("/incidents/{id}/status", post(set_status))
        .route("/incidents/{id}/severity", post(set_severity))
        .route("/incidents/{id}/roles", post(assign_role))
        .route("/incidents/{id}/notes", post(add_note))
        .route("/incidents/{id}/updates", post(post_update))
        .route("/incidents/{id}/actions", post(add_action))
        .route("/incidents/{id}/actions/{number}/done", post(action_done))
        .route("/incidents/{id}/actions/{number}/edit", post(edit_action))
        .route(
            "/incidents/{id}/actions/{number}/reopen",
            post(reopen_action),
        )
        .route("/incidents/{id}/roles/{role}/clear", post(clear_role))
        .route("/incidents/{id}/impact", post(set_impact))
        .route(
            "/incidents/{id}/resolve",
            get(confirm_resolve).post(resolve),
        )
        .route("/incidents/{id}/close", get(confirm_close).post(close))
        .route("/incidents/{id}/snooze", post(care::snooze))
        .route("/incidents/{id}/dismiss", post(care::dismiss))
        .route("/stats", get(stats))
        .route("/name", get(name_form).post(set_name))
}

/// On loopback nobody signs in: people say once who they are (kept in a cookie) so the
/// record names them instead of `web`. A name people give themselves is recorded, never
/// used to decide who sees security incidents.
async fn name_form(State(state): State<AppState>, page: PageCtx) -> Response {
    let title = page.lang.t("web-name-title");
    state
        .pages
        .render("name.html", &page, &title, context! {})
        .into_response()
}

#[derive(Deserialize)]
struct NameForm {
    #[serde(default)]
    name: String,
}

async fn set_name(State(state): State<AppState>, Form(f): Form<NameForm>) -> Response {
    let secure = if crate::csrf::served_over_tls(state.engine.config()) {
        "; Secure"
    } else {
        ""
    };
    // A blank name forgets the cookie.
    let cookie = match crate::auth::clean_name(&f.name) {
        Some(n) => format!(
            "{}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict{secure}",
            crate::auth::NAME_COOKIE,
            crate::csrf::percent_encode(&n)
        ),
        None => format!(
            "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}",
            crate::auth::NAME_COOKIE
        ),
    };
    ([(header::SET_COOKIE, cookie)], Redirect::to("/incidents")).into_response()
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/style.css"),
    )
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../assets/favicon.svg"),
    )
}

fn message(
    state: &AppState,
    page: &PageCtx,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> Response {
    (
        status,
        state.pages.render(
            "message.html",
            page,
            heading,
            context! { heading => heading, text => text },
        ),
    )
        .into_response()
}

/// The page for a form too large to read (413). The body was not read, so what was typed
/// cannot be shown again here; the browser still has it one step back, and the page says
/// the limits to shorten it to.
pub fn too_large_page(state: &AppState, lang: Lang, path: &str) -> Response {
    let other = match lang {
        Lang::En => "fr",
        Lang::Fr => "en",
    };
    // A form's address answers only POST: the language switch leads to the list.
    let switch_url = if path.starts_with("/incidents") {
        format!("/incidents?lang={other}")
    } else {
        format!("/?lang={other}")
    };
    let page = PageCtx {
        lang,
        csrf: String::new(),
        viewer: Viewer {
            name: None,
            sees_security: false,
            acting_for: None,
        },
        switch_url,
    };
    message(
        state,
        &page,
        StatusCode::PAYLOAD_TOO_LARGE,
        &lang.t("web-too-large-heading"),
        &crate::errors::too_large("web-too-large-text", lang),
    )
}

fn not_found(state: &AppState, page: &PageCtx, id: &str) -> Response {
    let text = muster_core::DomainError::IncidentNotFound(id.chars().take(40).collect())
        .message(page.lang);
    message(
        state,
        page,
        StatusCode::NOT_FOUND,
        &page.lang.t("web-not-found"),
        &text,
    )
}

fn engine_failure(state: &AppState, page: &PageCtx, e: &EngineError) -> Response {
    let status = if e.is_user_error() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let heading = if e.is_database_trouble() {
        "web-db-trouble-heading"
    } else {
        "web-error-heading"
    };
    let res = message(
        state,
        page,
        status,
        &page.lang.t(heading),
        &e.message(page.lang),
    );
    crate::trouble::with_retry_after(res, e)
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    team: String,
    page: Option<u32>,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

async fn list(
    State(state): State<AppState>,
    page: PageCtx,
    Query(p): Query<ListParams>,
) -> Response {
    let lang = page.lang;
    let c = state.engine.config();
    let n = p.page.unwrap_or(1).max(1);
    let q = ListQuery {
        status: opt(&p.status),
        severity: opt(&p.severity),
        team: opt(&p.team),
        search: opt(&p.q),
        include_security: page.viewer.sees_security,
        involving: Some(page.viewer.author("web")),
        include_drills: true,
        page: n,
        per_page: PER_PAGE,
    };
    let result = match state.engine.list(&q).await {
        Ok(r) => r,
        Err(e) => return engine_failure(&state, &page, &e),
    };
    let pages = result.total.div_ceil(PER_PAGE as u64).max(1) as u32;
    let url_for = |k: u32| {
        let mut parts = vec![format!("page={k}")];
        for (key, v) in [
            ("q", &p.q),
            ("status", &p.status),
            ("severity", &p.severity),
            ("team", &p.team),
        ] {
            if !v.is_empty() {
                parts.push(format!("{key}={}", url_encode(v)));
            }
        }
        format!("/incidents?{}", parts.join("&"))
    };
    let incidents: Vec<Value> = result
        .items
        .iter()
        .map(|i| {
            context! {
                number => i.number.to_string(),
                title => i.title.to_string(),
                severity => i.severity.clone(),
                status => c.status_label(&i.status, lang),
                team => i.team.clone().unwrap_or_default(),
                security => i.security,
                drill => i.drill,
                declared_at => when(i.declared_at, state.engine.now(), lang),
                sev_rank => sev_rank(c, &i.severity),
            }
        })
        .collect();
    let mut a = Args::new();
    a.num("shown", result.items.len() as i64)
        .num("total", result.total as i64);
    let summary = lang.format("cli-list-total", &a);
    let mut a = Args::new();
    a.num("page", n as i64).num("pages", pages as i64);
    let statuses: Vec<Value> = c
        .statuses
        .iter()
        .map(|s| context! { name => s.name.clone(), label => s.label(lang).to_owned() })
        .collect();
    let severities: Vec<String> = c.severities.iter().map(|s| s.name.clone()).collect();
    state
        .pages
        .render(
            "list.html",
            &page,
            &lang.t("web-list-title"),
            context! {
                incidents => incidents,
                summary => summary,
                page_label => lang.format("web-page-of", &a),
                prev_url => (n > 1).then(|| url_for(n - 1)),
                refresh_url => url_for(n),
                next_url => (n < pages).then(|| url_for(n + 1)),
                q => p.q, status => p.status, severity => p.severity, team => p.team,
                statuses => statuses, severities => severities,
            },
        )
        .into_response()
}

fn url_encode(s: &str) -> String {
    crate::csrf::percent_encode(s)
}

#[derive(Deserialize, Default, serde::Serialize)]
struct DeclareForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    security: Option<String>,
    #[serde(default)]
    drill: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    by: String,
    /// The form's idempotency key, made when the form was rendered: a double click or a
    /// resent form declares once.
    #[serde(default)]
    idem: String,
}

/// The delivery key of a declare form's `idem` field; None (declare without one) when the
/// field is missing or is not what [`declare_page`] renders (a random hexadecimal key).
fn form_key(idem: &str) -> Option<String> {
    let ok = (16..=64).contains(&idem.len()) && idem.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| format!("web:{idem}"))
}

fn severity_options(state: &AppState, lang: Lang) -> Vec<Value> {
    state
        .engine
        .config()
        .severities
        .iter()
        .map(|s| context! { name => s.name.clone(), description => s.description.get(lang).unwrap_or("").to_owned() })
        .collect()
}

fn declare_page(
    state: &AppState,
    page: &PageCtx,
    form: &DeclareForm,
    errors: Value,
    error: Option<String>,
) -> Html<String> {
    let lang = page.lang;
    state.pages.render(
        "declare.html",
        page,
        &lang.t("web-declare-title"),
        context! {
            form => context! {
                title => form.title.clone(),
                severity => if form.severity.is_empty() { state.engine.config().default_severity.clone() } else { form.severity.clone() },
                team => form.team.clone(),
                security => form.security.is_some(),
                drill => form.drill.is_some(),
                description => form.description.clone(),
                by => form.by.clone(),
                // Kept when the form comes back with errors: nothing was declared with it.
                idem => if form_key(&form.idem).is_some() { form.idem.clone() } else { uuid::Uuid::new_v4().simple().to_string() },
            },
            errors => errors,
            error => error,
            severities => severity_options(state, lang),
            // The engine's limits, so the form's hints never disagree with its checks.
            max_title => muster_core::title::MAX_TITLE_CHARS,
            max_text => muster_core::incident::MAX_TEXT_CHARS,
        },
    )
}

async fn new_form(State(state): State<AppState>, page: PageCtx) -> Response {
    declare_page(&state, &page, &DeclareForm::default(), context! {}, None).into_response()
}

async fn declare(
    State(state): State<AppState>,
    page: PageCtx,
    Form(form): Form<DeclareForm>,
) -> Response {
    let lang = page.lang;
    // The declare form asks who declares when nobody signed in; what is typed there wins
    // over the display name.
    let mut viewer = page.viewer.clone();
    if viewer.name.is_none()
        && let Some(b) = opt(&form.by)
    {
        viewer.acting_for = Some(b);
    }
    let by = viewer.author("web");
    let d = Declaration {
        title: form.title.clone(),
        severity: opt(&form.severity),
        team: opt(&form.team),
        security: form.security.is_some(),
        drill: form.drill.is_some(),
        description: opt(&form.description),
        by,
        ..Declaration::default()
    };
    let declared = match form_key(&form.idem) {
        Some(key) => state.engine.declare_keyed(d, &key).await,
        None => state.engine.declare(d).await.map(Declared::New),
    };
    match declared {
        // New or declared by the same form before (a double click): the same answer.
        Ok(declared) => {
            let detail = declared.detail();
            if !page.viewer.may_see(detail, "web") {
                let text = lang.format(
                    "web-declared-private",
                    &Args::new().with("number", detail.incident.number.to_string()),
                );
                return message(
                    &state,
                    &page,
                    StatusCode::CREATED,
                    &lang.t("web-declared-heading"),
                    &text,
                );
            }
            Redirect::to(&format!("/incidents/{}", detail.incident.number)).into_response()
        }
        Err(e) if e.is_user_error() => {
            // The engine says which field each problem is in; a problem it could not tie
            // to a field (a title that names no channel) is shown on the title.
            let errors: std::collections::BTreeMap<String, String> = match e.fields() {
                Some(fields) => fields
                    .iter()
                    .map(|(f, err)| (f.as_str().to_owned(), err.message(lang)))
                    .collect(),
                None => [("title".to_owned(), e.message(lang))].into(),
            };
            let errors = Value::from(errors);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                declare_page(
                    &state,
                    &page,
                    &form,
                    errors,
                    Some(lang.t("web-declare-fix")),
                ),
            )
                .into_response()
        }
        // Not saved: show the form again with everything typed, and why.
        Err(e) => {
            let res = (
                StatusCode::SERVICE_UNAVAILABLE,
                declare_page(
                    &state,
                    &page,
                    &form,
                    context! {},
                    Some(format!(
                        "{} {}",
                        lang.t("web-declare-not-saved"),
                        e.message(lang)
                    )),
                ),
            )
                .into_response();
            crate::trouble::with_retry_after(res, &e)
        }
    }
}

/// Load an incident the viewer may see.
pub(crate) async fn load(
    state: &AppState,
    page: &PageCtx,
    id: &str,
) -> Result<IncidentDetail, Response> {
    let r: IncidentRef = id.parse().map_err(|_| not_found(state, page, id))?;
    match state.engine.get(r).await {
        Ok(d) if !page.viewer.may_see(&d, "web") => Err(not_found(state, page, id)),
        Ok(d) => Ok(d),
        Err(EngineError::Domain(_)) => Err(not_found(state, page, id)),
        Err(e) => Err(engine_failure(state, page, &e)),
    }
}

/// Why a form on the incident page was refused: next to its field when the form says
/// which (`field`), with what was typed; else at the top of the page.
#[derive(Default)]
struct Refusal {
    error: Option<String>,
    field: Option<(&'static str, String)>,
    typed: Vec<(String, String)>,
}

/// How the incident page is asked for: which timeline entries to show, and what was just
/// done (the success message after a form, `?done=note`).
#[derive(Deserialize, Default)]
struct ShowParams {
    #[serde(default)]
    done: String,
    #[serde(default)]
    show: String,
}

/// What each form's success says; `?done=` names one of these, anything else says nothing.
const DONE: [&str; 14] = [
    "status",
    "severity",
    "role",
    "role-cleared",
    "action-edited",
    "action-reopened",
    "note",
    "update",
    "action",
    "action-done",
    "impact",
    "edit",
    "resolve",
    "close",
];

/// A time for the page: machine-readable, absolute (UTC) and relative to now.
fn when(t: muster_core::time::Timestamp, now: muster_core::time::Timestamp, lang: Lang) -> Value {
    context! {
        iso => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        abs => display(t),
        ago => ago(now - t, lang),
    }
}

/// "12 min ago", "2 h 05 min ago", "3 days ago", in `lang`.
fn ago(d: chrono::Duration, lang: Lang) -> String {
    let mins = d.num_minutes().max(0);
    let mut a = Args::new();
    if mins < 1 {
        return lang.t("web-ago-now");
    }
    if mins < 60 {
        a.num("minutes", mins);
        return lang.format("web-ago-minutes", &a);
    }
    if mins < 48 * 60 {
        a.num("hours", mins / 60)
            .str("minutes", format!("{:02}", mins % 60));
        return lang.format("web-ago-hours", &a);
    }
    a.num("days", mins / (24 * 60));
    lang.format("web-ago-days", &a)
}

/// SEV1 is the most severe: rank 1 (red) … 4 and beyond (grey), for the page's colours.
fn sev_rank(c: &muster_core::config::Config, severity: &str) -> usize {
    c.severities
        .iter()
        .position(|s| s.name == severity)
        .map_or(4, |p| (p + 1).min(4))
}

/// The first letter in capitals ("root causes" → "Root causes"), for labels.
fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

async fn incident_page(
    state: &AppState,
    page: &PageCtx,
    d: &IncidentDetail,
    params: &ShowParams,
    refusal: Refusal,
) -> Html<String> {
    let care = care::context(state, d, page.lang).await;
    let Refusal {
        error,
        field,
        typed,
    } = refusal;
    let field_errors: std::collections::BTreeMap<&str, String> = field.into_iter().collect();
    let typed: std::collections::BTreeMap<String, String> = typed.into_iter().collect();
    let lang = page.lang;
    let c = state.engine.config();
    let now = state.engine.now();
    let i = &d.incident;
    let local = |t: Option<muster_core::time::Timestamp>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    let current = c.statuses.iter().find(|s| s.name == i.status);
    let next_statuses: Vec<Value> = current
        .map(|s| s.next.clone())
        .unwrap_or_default()
        .iter()
        .map(|n| context! { name => n.clone(), label => c.status_label(n, lang) })
        .collect();
    let sev_rank = sev_rank(c, &i.severity);
    let phase = if i.closed_at.is_some() || i.status == c.closed_status {
        "closed"
    } else if i.resolved_at.is_some() {
        "resolved"
    } else {
        "active"
    };
    let holder = |key: &str| {
        d.roles
            .iter()
            .find(|r| r.role == key)
            .map(|r| r.person.clone())
    };
    let me = page.viewer.author("web");
    let show = match params.show.as_str() {
        "people" | "system" => params.show.as_str(),
        _ => "all",
    };
    let mut timeline = d.timeline.clone();
    timeline.sort_by_key(|e| (e.at, e.seq));
    let timeline: Vec<Value> = timeline
        .iter()
        .filter(|e| match show {
            "people" => e.event.is_human(),
            "system" => !e.event.is_human(),
            _ => true,
        })
        .map(|e| {
            let human = e.event.is_human();
            let text = e.event.describe(lang, c);
            let note = match &e.event {
                muster_core::incident::TimelineEvent::Note { text } => Some(text.clone()),
                _ => None,
            };
            context! {
                seq => e.seq,
                key => e.key_moment,
                edited => e.edited_from.is_some(),
                // Only its author may edit a note: the form is offered to them alone.
                mine => note.as_ref().filter(|_| e.author == me).cloned(),
                at => when(e.at, now, lang),
                author => e.author.clone(),
                // People's words render as safe Markdown; what Muster wrote stays text.
                html => human.then(|| muster_core::markdown::to_html(&text, muster_core::markdown::Flavor::Text)),
                text => text,
                kind => if human { "human" } else { "system" },
            }
        })
        .collect();
    let md = |t: &str| muster_core::markdown::to_html(t, muster_core::markdown::Flavor::Text);
    let typed_or =
        |key: &str, value: &str| typed.get(key).cloned().unwrap_or_else(|| value.to_owned());
    let narrative: Vec<Value> = muster_core::incident::Narrative::FIELDS
        .iter()
        .map(|f| {
            let mut n = i.narrative.clone();
            let value = n.field_mut(f).map(|v| v.clone()).unwrap_or_default();
            context! {
                name => *f,
                label => capitalized(&lang.t(&format!("field-{f}"))),
                value => typed_or(f, &value),
                empty => value.trim().is_empty(),
            }
        })
        .collect();
    let notice = DONE
        .contains(&params.done.as_str())
        .then(|| lang.t(&format!("web-done-{}", params.done)));
    state.pages.render(
        "incident.html",
        page,
        &format!("{}: {}", i.number, i.title),
        context! {
            error => error,
            notice => notice,
            field_errors => field_errors,
            typed => typed.clone(),
            show => show,
            i => context! {
                number => i.number.to_string(),
                title => i.title.to_string(),
                description => i.description.clone(),
                description_html => md(&i.description),
                status => c.status_label(&i.status, lang),
                phase => phase,
                severity => i.severity.clone(),
                sev_rank => sev_rank,
                severity_description => c.severities.iter().find(|s| s.name == i.severity).and_then(|s| s.description.get(lang)).unwrap_or("").to_owned(),
                team => i.team.clone().unwrap_or_default(),
                security => i.security,
                drill => i.drill,
                declared => when(i.declared_at, now, lang),
                impact_started => i.impact.started_at.map(|t| when(t, now, lang)),
                resolved => i.resolved_at.map(|t| when(t, now, lang)),
                declared_by => i.declared_by.clone(),
                commander => holder("commander"),
                commander_label => c.role_label("commander", lang),
                ops_lead => holder("ops-lead"),
                ops_lead_label => c.role_label("ops-lead", lang),
                channel => d.channel_label(),
                meeting_url => d.resource(ResourceKind::Meeting).and_then(|r| r.url.clone()),
                last_update => d.updates.last().map(|u| context! { at => when(u.at, now, lang), author => u.author.clone() }),
            },
            edit => context! {
                title => typed_or("title", i.title.as_str()),
                description => typed_or("description", &i.description),
                team => typed_or("team", i.team.as_deref().unwrap_or("")),
            },
            narrative => narrative,
            details_open => ["title", "description", "team"].iter().any(|k| typed.contains_key(*k)),
            sections_open => muster_core::incident::Narrative::FIELDS.iter().any(|k| typed.contains_key(*k)),
            empty_sections => i.narrative == muster_core::incident::Narrative::default(),
            next_statuses => next_statuses,
            severities => severity_options(state, lang),
            roles => d.roles.iter().map(|r| context! { key => r.role.clone(), role => c.role_label(&r.role, lang), person => r.person.clone() }).collect::<Vec<_>>(),
            role_defs => c.roles.iter().map(|r| context! { key => r.key.clone(), label => r.label(lang).to_owned() }).collect::<Vec<_>>(),
            impact_fields => [
                ("started", i.impact.started_at),
                ("detected", i.impact.detected_at),
                ("mitigated", i.impact.mitigated_at),
                ("ended", i.impact.ended_at),
            ].iter().map(|(f, v)| context! { name => *f, label => lang.t(&format!("impact-{f}")), value => local(*v) }).collect::<Vec<_>>(),
            updates => d.updates.iter().map(|u| context! { at => when(u.at, now, lang), author => u.author.clone(), html => md(&u.text), status => c.status_label(&u.status, lang) }).collect::<Vec<_>>(),
            timeline => timeline,
            actions => d.actions.iter().map(|a| context! { number => a.number, text => a.text.clone(), action_type => a.action_type.label(lang), type_key => a.action_type.as_str(), priority => a.priority.to_string(), owner => a.owner.clone(), link => a.link.clone(), done => a.done_at.is_some() }).collect::<Vec<_>>(),
            action_types => ActionType::ALL.iter().map(|t| context! { key => t.as_str(), label => t.label(lang) }).collect::<Vec<_>>(),
            max_title => muster_core::title::MAX_TITLE_CHARS,
            max_text => muster_core::incident::MAX_TEXT_CHARS,
            care => care,
        },
    )
}

async fn show(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Query(params): Query<ShowParams>,
) -> Response {
    match load(&state, &page, &id).await {
        Ok(d) => incident_page(&state, &page, &d, &params, Refusal::default())
            .await
            .into_response(),
        Err(r) => r,
    }
}

/// Run one change from a form: back to the page with what was `done` on success, the
/// page with the reason on a refused request.
async fn act<F, Fut>(state: AppState, page: PageCtx, id: String, done: &str, f: F) -> Response
where
    F: FnOnce(AppState, IncidentRef, String) -> Fut,
    Fut: std::future::Future<Output = Result<IncidentDetail, EngineError>>,
{
    act_on(state, page, id, done, |_| None, Vec::new(), f).await
}

/// [`act`] for a form whose refusals belong next to one of its fields (`field_of`), shown
/// again with what was `typed`.
async fn act_on<F, Fut>(
    state: AppState,
    page: PageCtx,
    id: String,
    done: &str,
    field_of: impl Fn(&muster_core::DomainError) -> Option<&'static str>,
    typed: Vec<(String, String)>,
    f: F,
) -> Response
where
    F: FnOnce(AppState, IncidentRef, String) -> Fut,
    Fut: std::future::Future<Output = Result<IncidentDetail, EngineError>>,
{
    let d = match load(&state, &page, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let by = page.viewer.author("web");
    match f(state.clone(), IncidentRef::Id(d.incident.id), by).await {
        Ok(d) => {
            Redirect::to(&format!("/incidents/{}?done={done}", d.incident.number)).into_response()
        }
        Err(EngineError::Domain(e)) => {
            let message = e.message(page.lang);
            let refusal = match field_of(&e) {
                Some(field) => Refusal {
                    field: Some((field, message)),
                    typed,
                    ..Refusal::default()
                },
                None => Refusal {
                    error: Some(message),
                    typed,
                    ..Refusal::default()
                },
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                incident_page(&state, &page, &d, &ShowParams::default(), refusal).await,
            )
                .into_response()
        }
        Err(e) => engine_failure(&state, &page, &e),
    }
}

/// `POST /incidents/{id}/edit`: the title, description, team and report sections the
/// form sends (any of them); the engine writes those that differ, as one timeline entry.
async fn edit(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let mut input = EditInput::default();
    let mut typed = Vec::new();
    for (k, v) in fields {
        match k.as_str() {
            "title" => input.title = Some(v.clone()),
            "description" => input.description = Some(v.clone()),
            "team" => input.team = Some(v.clone()),
            f if muster_core::incident::Narrative::FIELDS.contains(&f) => {
                input.narrative.push((k.clone(), v.clone()))
            }
            _ => continue,
        }
        typed.push((k, v));
    }
    act_on(
        state,
        page,
        id,
        "edit",
        |_| None,
        typed,
        |s, r, by| async move { s.engine.edit(r, input, &by).await },
    )
    .await
}

/// The page that asks "resolve/close INC-n?" before doing it: what the buttons on the
/// incident page lead to, and what a POST without `confirm` answers.
async fn confirm_page(state: &AppState, page: &PageCtx, id: &str, what: &str) -> Response {
    let d = match load(state, page, id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let lang = page.lang;
    let args = Args::new()
        .with("number", d.incident.number.to_string())
        .with("title", d.incident.title.to_string());
    let heading = lang.format(&format!("web-confirm-{what}-heading"), &args);
    state
        .pages
        .render(
            "confirm.html",
            page,
            &heading,
            context! {
                heading => heading.clone(),
                text => lang.t(&format!("web-confirm-{what}-text")),
                button => lang.t(&format!("web-confirm-{what}-button")),
                action => format!("/incidents/{}/{what}", d.incident.number),
                number => d.incident.number.to_string(),
            },
        )
        .into_response()
}

async fn confirm_resolve(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Response {
    confirm_page(&state, &page, &id, "resolve").await
}

async fn confirm_close(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Response {
    confirm_page(&state, &page, &id, "close").await
}

#[derive(Deserialize)]
struct NoteEditForm {
    #[serde(default)]
    text: String,
}

/// `POST /incidents/{id}/timeline/{seq}/edit`: its author rewrites a note.
async fn edit_note(
    State(state): State<AppState>,
    page: PageCtx,
    Path((id, seq)): Path<(String, i64)>,
    Form(f): Form<NoteEditForm>,
) -> Response {
    act(state, page, id, "note-edited", move |s, r, by| async move {
        s.engine.revise_note(r, seq, Some(&f.text), &by).await
    })
    .await
}

/// `POST /incidents/{id}/timeline/{seq}/delete`: its author withdraws a note.
async fn delete_note(
    State(state): State<AppState>,
    page: PageCtx,
    Path((id, seq)): Path<(String, i64)>,
) -> Response {
    act(
        state,
        page,
        id,
        "note-deleted",
        move |s, r, by| async move { s.engine.revise_note(r, seq, None, &by).await },
    )
    .await
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    key: String,
}

/// `POST /incidents/{id}/timeline/{seq}/key`: mark (`key=yes`) or unmark an entry.
async fn key_moment(
    State(state): State<AppState>,
    page: PageCtx,
    Path((id, seq)): Path<(String, i64)>,
    Form(f): Form<KeyForm>,
) -> Response {
    let key = f.key == "yes";
    act(state, page, id, "key", move |s, r, by| async move {
        s.engine.mark_key_moment(r, seq, key, &by).await
    })
    .await
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    confirm: String,
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    confirm: String,
}

/// What a review needs before it is called done: (message id, whether it is).
fn readiness(d: &IncidentDetail) -> [(&'static str, bool); 4] {
    let i = &d.incident;
    [
        (
            "web-ready-impact",
            i.impact.started_at.is_some() && i.impact.ended_at.is_some(),
        ),
        (
            "web-ready-root-causes",
            !i.narrative.root_causes.trim().is_empty(),
        ),
        ("web-ready-actions", !d.actions.is_empty()),
        ("web-ready-summary", !i.narrative.summary.trim().is_empty()),
    ]
}

/// The statuses that say the review is done: those the resolved status leads to that
/// cannot be reached from the initial status without passing through it (the default
/// lifecycle's "Reviewed"), the closed status aside (closing asks on its own).
fn review_done_statuses(c: &muster_core::config::Config) -> Vec<String> {
    let next = |name: &str| {
        c.statuses
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.next.clone())
            .unwrap_or_default()
    };
    let mut before = vec![c.initial_status.clone()];
    let mut i = 0;
    while i < before.len() {
        for n in next(&before[i]) {
            if n != c.resolved_status && !before.contains(&n) {
                before.push(n);
            }
        }
        i += 1;
    }
    next(&c.resolved_status)
        .into_iter()
        .filter(|n| !before.contains(n) && *n != c.closed_status)
        .collect()
}

async fn set_status(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    // Calling the review done with the checklist incomplete asks first.
    if f.confirm != "yes" {
        let c = state.engine.config();
        let target = c.status(&f.status).map(|s| s.name.clone());
        if let Ok(target) = target
            && review_done_statuses(c).contains(&target)
        {
            let d = match load(&state, &page, &id).await {
                Ok(d) => d,
                Err(r) => return r,
            };
            let lang = page.lang;
            let missing: Vec<String> = readiness(&d)
                .iter()
                .filter(|(_, ok)| !ok)
                .map(|(k, _)| lang.t(k))
                .collect();
            if !missing.is_empty() {
                let args = Args::new()
                    .with("number", d.incident.number.to_string())
                    .with("status", c.status_label(&target, lang));
                let heading = lang.format("web-confirm-review-heading", &args);
                return state
                    .pages
                    .render(
                        "confirm.html",
                        &page,
                        &heading,
                        context! {
                            heading => heading.clone(),
                            text => lang.t("web-confirm-review-text"),
                            missing => missing,
                            button => lang.format("web-confirm-review-button", &args),
                            action => format!("/incidents/{}/status", d.incident.number),
                            status => target,
                            number => d.incident.number.to_string(),
                        },
                    )
                    .into_response();
            }
        }
    }
    act(state, page, id, "status", |s, r, by| async move {
        s.engine.set_status(r, &f.status, &by).await
    })
    .await
}

#[derive(Deserialize)]
struct SeverityForm {
    #[serde(default)]
    severity: String,
}

async fn set_severity(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<SeverityForm>,
) -> Response {
    act(state, page, id, "severity", |s, r, by| async move {
        s.engine.set_severity(r, &f.severity, &by).await
    })
    .await
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    person: String,
}

async fn assign_role(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> Response {
    act(state, page, id, "role", |s, r, by| async move {
        s.engine.assign_role(r, &f.role, &f.person, &by).await
    })
    .await
}

#[derive(Deserialize)]
struct TextForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    at: String,
}

async fn add_note(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<TextForm>,
) -> Response {
    let typed = vec![
        ("note-text".to_owned(), f.text.clone()),
        ("note-at".to_owned(), f.at.clone()),
    ];
    let field_of = |e: &muster_core::DomainError| {
        Some(if e.is_about_time() {
            "note-at"
        } else {
            "note-text"
        })
    };
    act_on(
        state,
        page,
        id,
        "note",
        field_of,
        typed,
        |s, r, by| async move {
            s.engine
                .add_note(r, &f.text, opt(&f.at).as_deref(), &by)
                .await
        },
    )
    .await
}

async fn post_update(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<TextForm>,
) -> Response {
    let typed = vec![("update-text".to_owned(), f.text.clone())];
    act_on(
        state,
        page,
        id,
        "update",
        |_| None,
        typed,
        |s, r, by| async move { s.engine.post_update(r, &f.text, &by).await },
    )
    .await
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    text: String,
    #[serde(default, rename = "type")]
    action_type: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    link: String,
}

async fn add_action(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    act(state, page, id, "action", |s, r, by| async move {
        s.engine.add_action(r, f.input(), &by).await
    })
    .await
}

impl ActionForm {
    fn input(self) -> ActionInput {
        ActionInput {
            text: self.text,
            action_type: self.action_type,
            priority: self.priority,
            owner: opt(&self.owner),
            link: opt(&self.link),
        }
    }
}

async fn edit_action(
    State(state): State<AppState>,
    page: PageCtx,
    Path((id, number)): Path<(String, i64)>,
    Form(f): Form<ActionForm>,
) -> Response {
    act(state, page, id, "action-edited", |s, r, by| async move {
        s.engine.edit_action(r, number, f.input(), &by).await
    })
    .await
}

async fn reopen_action(
    State(state): State<AppState>,
    page: PageCtx,
    Path((id, number)): Path<(String, i64)>,
) -> Response {
    act(state, page, id, "action-reopened", |s, r, by| async move {
        s.engine.reopen_action(r, number, &by).await
    })
    .await
}

async fn clear_role(
    State(state): State<AppState>,
    page: PageCtx,
    Path((id, role)): Path<(String, String)>,
) -> Response {
    act(state, page, id, "role-cleared", |s, r, by| async move {
        s.engine.clear_role(r, &role, &by).await
    })
    .await
}

async fn action_done(
    State(state): State<AppState>,
    page: PageCtx,
    Path((id, number)): Path<(String, i64)>,
) -> Response {
    act(state, page, id, "action-done", |s, r, by| async move {
        s.engine.complete_action(r, number, &by).await
    })
    .await
}

#[derive(Deserialize)]
struct ImpactForm {
    #[serde(default)]
    detected: String,
    #[serde(default)]
    started: String,
    #[serde(default)]
    mitigated: String,
    #[serde(default)]
    ended: String,
}

async fn set_impact(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<ImpactForm>,
) -> Response {
    let field_of = |e: &muster_core::DomainError| e.is_about_time().then_some("impact");
    act_on(
        state,
        page,
        id,
        "impact",
        field_of,
        Vec::new(),
        |s, r, by| async move {
            s.engine
                .set_impact(
                    r,
                    ImpactInput {
                        detected: opt(&f.detected),
                        started: opt(&f.started),
                        mitigated: opt(&f.mitigated),
                        ended: opt(&f.ended),
                    },
                    &by,
                )
                .await
        },
    )
    .await
}

/// Resolve or close (`what`), once the person answered the confirmation page.
async fn finish(
    state: AppState,
    page: PageCtx,
    id: String,
    what: &str,
    confirmed: bool,
) -> Response {
    if !confirmed {
        return confirm_page(&state, &page, &id, what).await;
    }
    let resolve = what == "resolve";
    act(state, page, id, what, move |s, r, by| async move {
        if resolve {
            s.engine.resolve(r, &by).await
        } else {
            s.engine.close(r, &by).await
        }
    })
    .await
}

async fn resolve(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    finish(state, page, id, "resolve", f.confirm == "yes").await
}

async fn close(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    finish(state, page, id, "close", f.confirm == "yes").await
}

async fn report(State(state): State<AppState>, page: PageCtx, Path(id): Path<String>) -> Response {
    let d = match load(&state, &page, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    match state
        .engine
        .render_report(&d, page.lang, ReportFormat::Markdown)
    {
        Ok(md) => {
            let body = muster_core::report::markdown_to_html_fragment(&md);
            let title = format!("{} · {}", d.incident.number, page.lang.t("web-report"));
            let lang = page.lang;
            let i = &d.incident;
            let mut narrative = i.narrative.clone();
            let empty: Vec<String> = muster_core::incident::Narrative::FIELDS
                .iter()
                .filter(|f| narrative.field_mut(f).is_some_and(|v| v.trim().is_empty()))
                .map(|f| capitalized(&lang.t(&format!("field-{f}"))))
                .collect();
            let checklist: Vec<Value> = readiness(&d)
                .iter()
                .map(|(k, ok)| context! { label => lang.t(k), ok => *ok })
                .collect();
            state
                .pages
                .render(
                    "report.html",
                    &page,
                    &title,
                    context! {
                        body => body,
                        number => d.incident.number.to_string(),
                        empty => empty,
                        checklist => checklist,
                    },
                )
                .into_response()
        }
        Err(e) => engine_failure(&state, &page, &e),
    }
}

async fn report_md(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Response {
    let d = match load(&state, &page, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    match state
        .engine
        .render_report(&d, page.lang, ReportFormat::Markdown)
    {
        Ok(md) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/markdown; charset=utf-8".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.md\"", d.incident.number),
                ),
            ],
            md,
        )
            .into_response(),
        Err(e) => engine_failure(&state, &page, &e),
    }
}

async fn stats(State(state): State<AppState>, page: PageCtx) -> Response {
    let lang = page.lang;
    let c = state.engine.config();
    let filter = muster_core::record::ListFilter {
        include_security: page.viewer.sees_security,
        include_drills: false,
        ..muster_core::record::ListFilter::default()
    };
    let incidents = match state.engine.all_incidents(&filter).await {
        Ok(v) => v,
        Err(e) => return engine_failure(&state, &page, &e),
    };
    let order: Vec<String> = c.severities.iter().map(|s| s.name.clone()).collect();
    let m = muster_core::metrics::compute(&incidents, &order, state.engine.now().date_naive(), 12);
    let weeks: Vec<(String, f64)> = m
        .per_week
        .iter()
        .map(|w| (w.week.format("%m-%d").to_string(), w.count as f64))
        .collect();
    let minutes = lang.t("web-minutes");
    let fmt = |v: Option<f64>| {
        v.map(|v| format!("{} {minutes}", crate::svg::fmt_num(v)))
            .unwrap_or_else(|| "-".into())
    };
    let mitigate: Vec<(String, f64)> = m
        .by_severity
        .iter()
        .map(|s| {
            (
                s.severity.clone(),
                s.time_to_mitigate.median_minutes.unwrap_or(0.0),
            )
        })
        .collect();
    let resolve: Vec<(String, f64)> = m
        .by_severity
        .iter()
        .map(|s| {
            (
                s.severity.clone(),
                s.time_to_resolve.median_minutes.unwrap_or(0.0),
            )
        })
        .collect();
    let rows: Vec<Value> = m
        .by_severity
        .iter()
        .map(|s| {
            context! {
                severity => s.severity.clone(), incidents => s.incidents,
                mttm_mean => fmt(s.time_to_mitigate.mean_minutes), mttm_median => fmt(s.time_to_mitigate.median_minutes),
                mttr_mean => fmt(s.time_to_resolve.mean_minutes), mttr_median => fmt(s.time_to_resolve.median_minutes),
            }
        })
        .collect();
    state
        .pages
        .render(
            "stats.html",
            &page,
            &lang.t("web-metrics-title"),
            context! {
                weeks_chart => crate::svg::bar_chart(&lang.t("web-metrics-per-week"), &weeks, &lang.t("web-metrics-incidents")),
                mitigate_chart => crate::svg::bar_chart(&lang.t("web-metrics-mttm-median"), &mitigate, &minutes),
                resolve_chart => crate::svg::bar_chart(&lang.t("web-metrics-mttr-median"), &resolve, &minutes),
                by_severity => rows,
            },
        )
        .into_response()
}
