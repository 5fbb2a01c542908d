//! The simulator's request path: each `POST /api/{method}` is looked up, delayed,
//! faulted, authenticated, checked against the method's description, applied to the
//! workspace and recorded.

use super::args::{ApiError, Args};
use super::{Call, Fault, FaultedCall, HoldSpec, Rejection, Shared, World, lock};
use crate::socket::SIM_APP_TOKEN;
use crate::spec::{self, ArgProblem, MethodSpec};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};

/// Error codes the simulator may answer for any method, whether or not the method's
/// description lists them (Slack does the same).
const GENERAL_ERRORS: &[&str] = &[
    "invalid_auth",
    "not_authed",
    "invalid_arguments",
    "missing_argument",
    "unknown_method",
    "ratelimited",
    "invalid_form_data",
];

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn error_body(code: &str) -> Value {
    json!({ "ok": false, "error": code })
}

pub(super) async fn handle(
    AxState(world): AxState<Shared>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(spec) = spec::method(&method) else {
        lock(&world).rejections.push(Rejection {
            method: method.clone(),
            problems: vec!["unknown method".into()],
        });
        return json_response(StatusCode::OK, error_body("unknown_method"));
    };

    let latency = {
        let w = lock(&world);
        w.faults
            .method_latency
            .get(&method)
            .copied()
            .unwrap_or(w.faults.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let fault = lock(&world).take_fault(&method);
    if let Some(Fault::Stall(d)) = fault {
        tokio::time::sleep(d).await;
    } else if let Some(fault) = fault {
        return match fault {
            Fault::Error(code) => json_response(StatusCode::OK, error_body(&code)),
            Fault::Status(s) => (
                StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "simulated upstream failure",
            )
                .into_response(),
            Fault::RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, retry_after_secs.to_string()),
                    (header::CONTENT_TYPE, "application/json".to_owned()),
                ],
                error_body("ratelimited").to_string(),
            )
                .into_response(),
            Fault::Stall(_) => unreachable!("handled above"),
        };
    }

    let args = match parse_args(&headers, query.as_deref(), &body) {
        Ok(a) => a,
        Err(problem) => {
            lock(&world).rejections.push(Rejection {
                method: method.clone(),
                problems: vec![problem],
            });
            return json_response(StatusCode::OK, error_body("invalid_form_data"));
        }
    };

    let (response, hold) = answer(&world, method, &headers, &args, spec);
    if let Some(h) = hold {
        h.reached.notify_one();
        std::future::pending::<()>().await;
    }
    response
}

/// Authenticate, check and apply one call; also says whether to hold its answer.
fn answer(
    world: &Shared,
    method: String,
    headers: &HeaderMap,
    args: &Args,
    spec: &MethodSpec,
) -> (Response, Option<HoldSpec>) {
    let mut w = lock(world);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let token = bearer.or_else(|| args.get("token").and_then(Value::as_str).map(str::to_owned));
    // `apps.connections.open` takes the app-level token; every other method the bot token.
    let app_level = spec.name == "apps.connections.open";
    let expected = if app_level { SIM_APP_TOKEN } else { &w.token };
    match token {
        None => {
            return (
                json_response(StatusCode::OK, error_body("not_authed")),
                None,
            );
        }
        Some(t) if app_level && t == w.token => {
            return (
                json_response(StatusCode::OK, error_body("not_allowed_token_type")),
                None,
            );
        }
        Some(t) if t != expected => {
            return (
                json_response(StatusCode::OK, error_body("invalid_auth")),
                None,
            );
        }
        Some(_) => {}
    }

    let problems = spec.check(args);
    if !problems.is_empty() {
        let code = problem_code(spec, &problems);
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        w.rejections.push(Rejection {
            method: method.clone(),
            problems: messages.clone(),
        });
        let mut body = error_body(code);
        body["response_metadata"] = json!({ "messages": messages });
        return (json_response(StatusCode::OK, body), None);
    }

    let mut recorded_args = args.clone();
    recorded_args.remove("token");
    let result = w.apply(spec, args);
    let (error, body) = match result {
        Ok(mut body) => {
            body["ok"] = json!(true);
            let obj = body.as_object_mut().expect("object");
            // `ok` first, like Slack.
            let mut ordered = Map::new();
            ordered.insert("ok".into(), json!(true));
            for (k, v) in std::mem::take(obj) {
                if k != "ok" {
                    ordered.insert(k, v);
                }
            }
            (None, Value::Object(ordered))
        }
        Err(ApiError { code, extra }) => {
            if !spec.errors.contains(code) && !GENERAL_ERRORS.contains(&code) {
                w.unlisted_errors.push((method.clone(), code.to_owned()));
            }
            let mut body = error_body(code);
            if let Some(Value::Object(extra)) = extra {
                for (k, v) in extra {
                    body[k] = v;
                }
            }
            (Some(code.to_owned()), body)
        }
    };
    let call = Call {
        method,
        args: recorded_args,
        error,
        at: std::time::Instant::now(),
    };
    let hold = w
        .faults
        .holds
        .iter()
        .position(|h| h.method == call.method && (h.matches)(&call))
        .map(|i| w.faults.holds.remove(i));
    w.calls.push(call);
    (json_response(StatusCode::OK, body), hold)
}

/// Which error code Slack gives for these problems.
fn problem_code(spec: &MethodSpec, problems: &[ArgProblem]) -> &'static str {
    let only_missing = problems
        .iter()
        .all(|p| matches!(p, ArgProblem::MissingRequired(_)));
    if only_missing && spec.errors.contains("missing_argument") {
        "missing_argument"
    } else if problems
        .iter()
        .all(|p| matches!(p, ArgProblem::MissingOneOf(_)))
        && spec.errors.contains("no_text")
    {
        "no_text"
    } else {
        "invalid_arguments"
    }
}

fn parse_args(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Result<Args, String> {
    let mut args = BTreeMap::new();
    if let Some(q) = query {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(q).map_err(|e| format!("query string: {e}"))?;
        for (k, v) in pairs {
            args.insert(k, Value::String(v));
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if body.is_empty() {
        return Ok(args);
    }
    if content_type.starts_with("application/json") {
        let v: Value = serde_json::from_slice(body).map_err(|e| format!("JSON body: {e}"))?;
        let Value::Object(o) = v else {
            return Err("JSON body is not an object".into());
        };
        args.extend(o);
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| format!("form body: {e}"))?;
        for (k, v) in pairs {
            args.insert(k, Value::String(v));
        }
    } else {
        return Err(format!("unsupported content type {content_type:?}"));
    }
    Ok(args)
}

impl World {
    fn take_fault(&mut self, method: &str) -> Option<Fault> {
        let fault = if self.faults.storm > 0 {
            self.faults.storm -= 1;
            Some(Fault::RateLimited {
                retry_after_secs: self.faults.storm_retry_after,
            })
        } else {
            self.faults
                .per_method
                .get_mut(method)
                .and_then(VecDeque::pop_front)
        };
        if let Some(f) = &fault {
            *self.faults.faulted.entry(method.to_owned()).or_default() += 1;
            self.faults.log.push(FaultedCall {
                method: method.to_owned(),
                fault: f.clone(),
                at: std::time::Instant::now(),
            });
        }
        fault
    }
}
