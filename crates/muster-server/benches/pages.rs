//! Server time of the two heaviest pages, through the full router and middleware.
//!
//! `cargo bench -p muster-server --bench pages`
//! Targets (issue 3): list page over 10,000 incidents ≤ 20 ms median; incident page with
//! 1,000 timeline entries ≤ 20 ms.

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use muster_core::IncidentRef;
use muster_core::config::Config;
use muster_engine::{Declaration, Engine, SystemClock};
use std::sync::Arc;
use tower::ServiceExt;

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (router, big) = rt.block_on(async {
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        let store = muster_store::Store::open(&url).await.unwrap();
        let engine = Engine::new(store, Arc::new(Config::default()), Arc::new(SystemClock));
        for k in 0..10_000 {
            engine
                .declare(Declaration {
                    title: format!("Synthetic incident {k} on the payments platform"),
                    severity: Some(["SEV1", "SEV2", "SEV3", "SEV4"][k % 4].into()),
                    team: Some("payments".into()),
                    by: "bench".into(),
                    ..Declaration::default()
                })
                .await
                .unwrap();
        }
        let big = engine
            .declare(Declaration {
                title: "Long incident".into(),
                by: "bench".into(),
                ..Declaration::default()
            })
            .await
            .unwrap();
        let r = IncidentRef::Id(big.incident.id);
        for n in 0..1000 {
            engine
                .add_note(
                    r,
                    &format!("Note {n}: checked dashboards, queue depth and error rates"),
                    None,
                    "bench",
                )
                .await
                .unwrap();
        }
        let state = muster_server::AppState::new(engine, true);
        (
            muster_server::router(state),
            big.incident.number.to_string(),
        )
    });
    let get = |path: String| {
        let router = router.clone();
        async move {
            let res = router
                .oneshot(
                    Request::get(path)
                        .header("host", "localhost:8080")
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert!(res.status().is_success());
            res.into_body().collect().await.unwrap().to_bytes().len()
        }
    };
    let mut g = c.benchmark_group("pages");
    g.bench_function("list_page_10k_incidents", |b| {
        b.iter(|| rt.block_on(get("/incidents".into())))
    });
    g.bench_function("list_page_10k_filtered_search", |b| {
        b.iter(|| rt.block_on(get("/incidents?severity=SEV2&q=incident+99".into())))
    });
    let path = format!("/incidents/{big}");
    g.bench_function("incident_page_1000_entries", |b| {
        b.iter(|| rt.block_on(get(path.clone())))
    });
    g.bench_function("api_get_incident_1000_entries", |b| {
        b.iter(|| rt.block_on(get(format!("/api/v1/incidents/{big}"))))
    });
    g.finish();
}

criterion_group! {
    name = pages;
    config = Criterion::default().sample_size(30);
    targets = benches
}
criterion_main!(pages);
