//! Core operations on a store that already holds 10,000 incidents.
//!
//! `cargo bench -p muster-engine --bench lifecycle`
//! Targets (issue 2): declare ≤ 5 ms, report render with 100 timeline entries ≤ 10 ms,
//! first page of the list ≤ 10 ms.

use criterion::{Criterion, criterion_group, criterion_main};
use muster_core::config::Config;
use muster_core::report::ReportFormat;
use muster_core::{IncidentRef, Lang};
use muster_engine::{Declaration, Engine, ListQuery, SystemClock};
use muster_store::Store;
use std::sync::Arc;

const INCIDENTS: usize = 10_000;

fn setup(rt: &tokio::runtime::Runtime, dir: &tempfile::TempDir) -> Engine {
    rt.block_on(async {
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        let engine = Engine::new(store, Arc::new(Config::default()), Arc::new(SystemClock));
        for k in 0..INCIDENTS {
            engine
                .declare(Declaration {
                    title: format!("Synthetic incident number {k} with a realistic title"),
                    severity: Some(["SEV1", "SEV2", "SEV3", "SEV4"][k % 4].into()),
                    team: Some(["notify", "forms", "platform"][k % 3].into()),
                    security: k % 50 == 0,
                    by: "bench".into(),
                    ..Declaration::default()
                })
                .await
                .unwrap();
        }
        engine
    })
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = setup(&rt, &dir);

    let mut g = c.benchmark_group("store_with_10k_incidents");
    let mut k = 0u64;
    g.bench_function("declare", |b| {
        b.iter(|| {
            k += 1;
            rt.block_on(engine.declare(Declaration {
                title: format!("Benchmark declaration {k}"),
                severity: Some("SEV2".into()),
                by: "bench".into(),
                ..Declaration::default()
            }))
            .unwrap()
        })
    });

    let target = rt
        .block_on(engine.declare(Declaration {
            title: "Incident with a long timeline".into(),
            by: "bench".into(),
            ..Declaration::default()
        }))
        .unwrap();
    let r = IncidentRef::Id(target.incident.id);
    rt.block_on(async {
        for n in 0..100 {
            engine
                .add_note(
                    r,
                    &format!("Timeline note {n}: checked the dashboards and the queue depth"),
                    None,
                    "bench",
                )
                .await
                .unwrap();
        }
    });
    g.bench_function("report_render_md_100_entries", |b| {
        b.iter(|| {
            rt.block_on(engine.report(r, Lang::En, ReportFormat::Markdown))
                .unwrap()
        })
    });
    g.bench_function("report_render_html_100_entries", |b| {
        b.iter(|| {
            rt.block_on(engine.report(r, Lang::Fr, ReportFormat::Html))
                .unwrap()
        })
    });
    let detail = rt.block_on(engine.get(r)).unwrap();
    g.bench_function("report_template_only_100_entries", |b| {
        b.iter(|| {
            engine
                .render_report(&detail, Lang::En, ReportFormat::Markdown)
                .unwrap()
        })
    });
    g.bench_function("list_first_page", |b| {
        b.iter(|| {
            rt.block_on(engine.list(&ListQuery {
                page: 1,
                per_page: 50,
                ..ListQuery::default()
            }))
            .unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = lifecycle;
    config = Criterion::default().sample_size(50);
    targets = benches
}
criterion_main!(lifecycle);
