//! What people are told when the database cannot do what they asked (locked, read-only,
//! full): the same classification for pages, the API and Slack, so every entry point says
//! that nothing was stored and whether sending it again will help.

use axum::http::{HeaderValue, header};
use axum::response::Response;
use muster_core::Lang;
use muster_core::i18n::Args;
use muster_engine::EngineError;

/// The message for a declaration that failed: the reason for a refused request (fix the
/// form), or "nothing was declared" and why, when the database could not save it.
pub fn declare_failed(e: &EngineError, lang: Lang) -> String {
    match e {
        EngineError::Domain(_) => e.message(lang),
        _ => lang.format(
            "slack-not-declared",
            &Args::new().with("reason", e.message(lang)),
        ),
    }
}

/// Add `Retry-After` (seconds) when waiting and sending the same request again can help.
pub fn with_retry_after(mut res: Response, e: &EngineError) -> Response {
    if let Some(d) = e.retry_after()
        && let Ok(v) = HeaderValue::from_str(&d.as_secs().max(1).to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_store::StoreError;

    #[test]
    fn database_trouble_says_nothing_was_declared_in_both_languages() {
        let e = EngineError::Store(StoreError::Locked);
        assert!(declare_failed(&e, Lang::En).starts_with("Nothing was declared."));
        assert!(declare_failed(&e, Lang::Fr).starts_with("Rien n'a été déclaré."));
        let d = EngineError::Domain(muster_core::DomainError::TitleEmpty);
        assert_eq!(declare_failed(&d, Lang::En), d.message(Lang::En));
    }

    #[test]
    fn retry_after_only_where_it_helps() {
        let res = |e| with_retry_after(Response::default(), &EngineError::Store(e));
        assert_eq!(res(StoreError::Locked).headers()[header::RETRY_AFTER], "5");
        assert_eq!(res(StoreError::Full).headers()[header::RETRY_AFTER], "60");
        assert!(
            res(StoreError::Corrupt)
                .headers()
                .get(header::RETRY_AFTER)
                .is_none()
        );
    }
}
