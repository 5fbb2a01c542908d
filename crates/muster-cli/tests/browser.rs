//! End to end in a real headless Chromium: `muster serve` (the real binary) driven through
//! chromedriver. Screenshots land in `target/tmp/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them
//! the test is skipped locally and fails in CI.

use fantoccini::{ClientBuilder, Locator};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(bin))
            .find(|p| p.is_file())
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_muster(dir: &Path) -> (Kill, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .env_remove("MUSTER_DATABASE_URL")
        .env_remove("MUSTER_CONFIG")
        .env_remove("MUSTER_LANG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Log lines may come first: read until the line that gives the address.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "muster serve exited");
        if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            break u.to_owned();
        }
    };
    (Kill(child), url)
}

/// A plain HTTP GET, to check what a download link serves.
fn http_get(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

/// Chromium and chromedriver, or None (the test is skipped) outside CI when missing.
fn browser_bins() -> Option<(PathBuf, PathBuf)> {
    let (Some(driver_bin), Some(chromium)) = (find("chromedriver"), find("chromium")) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium and chromium-driver"
        );
        eprintln!("skipping: chromium or chromedriver is not installed");
        return None;
    };
    Some((driver_bin, chromium))
}

fn screenshots() -> PathBuf {
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    shots
}

/// chromedriver on a free port, with these environment variables (its browsers inherit
/// them: `TZ` sets their time zone).
async fn start_driver(driver_bin: &Path, env: &[(&str, &str)]) -> (Kill, u16) {
    let port = free_port();
    let mut cmd = Command::new(driver_bin);
    cmd.arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let driver = Kill(cmd.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (driver, port)
}

/// A headless Chromium session with its own profile (its own cookies), and these flags.
async fn session(port: u16, chromium: &Path, profile: &Path, extra: &[&str]) -> fantoccini::Client {
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1100",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend(extra.iter().map(|s| s.to_string()));
    let caps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "goog:chromeOptions": { "binary": chromium, "args": args }
        }))
        .unwrap();
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declare_and_run_an_incident_in_a_real_browser() {
    let Some((driver_bin, chromium)) = browser_bins() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shots = screenshots();
    let (_server, base) = start_muster(dir.path());
    let (_driver, port) = start_driver(&driver_bin, &[]).await;
    let c = session(port, &chromium, &dir.path().join("profile"), &[]).await;

    let result = async {
        // Declare through the form, after one validation error.
        c.goto(&format!("{base}/incidents/new")).await?;
        c.find(Locator::Css("button.primary"))
            .await?
            .click()
            .await?;
        // Wait for the answer to the submission, not the page it replaces.
        let err = c
            .wait()
            .for_element(Locator::Id("title-error"))
            .await?
            .text()
            .await?;
        assert!(
            err.contains("The title is empty"),
            "validation message next to the field: {err}"
        );
        c.find(Locator::Id("title"))
            .await?
            .send_keys("Checkout errors after deploy")
            .await?;
        c.find(Locator::Css("#severity option[value='SEV2']"))
            .await?
            .click()
            .await?;
        c.find(Locator::Id("team"))
            .await?
            .send_keys("payments")
            .await?;
        c.find(Locator::Id("description"))
            .await?
            .send_keys("Card payments fail with 502")
            .await?;
        c.find(Locator::Css("button.primary"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::XPath("//h1[starts-with(., 'INC-1')]"))
            .await?;
        assert!(
            c.current_url()
                .await?
                .as_str()
                .ends_with("/incidents/INC-1")
        );
        let h1 = c.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(h1, "INC-1: Checkout errors after deploy");
        std::fs::write(shots.join("01-incident.png"), c.screenshot().await?).unwrap();

        // Add a timeline note.
        c.find(Locator::Id("note-text"))
            .await?
            .send_keys("Rolled back to v41")
            .await?;
        c.find(Locator::XPath(
            "//form[@action='/incidents/INC-1/notes']//button",
        ))
        .await?
        .click()
        .await?;
        c.wait()
            .for_element(Locator::XPath("//td[contains(., 'Rolled back to v41')]"))
            .await?;

        // Change the status: its form is folded under the timeline.
        c.find(Locator::Css("#status-severity summary"))
            .await?
            .click()
            .await?;
        c.find(Locator::Css("#new-status option[value='In Progress']"))
            .await?
            .click()
            .await?;
        c.find(Locator::XPath(
            "//form[@action='/incidents/INC-1/status']//button",
        ))
        .await?
        .click()
        .await?;
        c.wait()
            .for_element(Locator::XPath(
                "//p[@class='meta']/span[contains(., 'In Progress')]",
            ))
            .await?;
        std::fs::write(shots.join("02-after-changes.png"), c.screenshot().await?).unwrap();

        // Open the report, then download its Markdown.
        c.find(Locator::LinkText("Report")).await?.click().await?;
        c.wait()
            .for_element(Locator::XPath("//h2[contains(., 'Detailed timeline')]"))
            .await?;
        let report = c.source().await?;
        assert!(report.contains("Rolled back to v41"));
        std::fs::write(shots.join("03-report.png"), c.screenshot().await?).unwrap();
        let link = c.find(Locator::LinkText("Download as Markdown")).await?;
        let href = link.attr("href").await?.expect("download link");
        let (head, md) = http_get(&url_of(&base, &href));
        assert!(
            head.contains("content-disposition: attachment; filename=\"INC-1.md\""),
            "{head}"
        );
        assert!(
            md.contains("# INC-1: Checkout errors after deploy")
                && md.contains("Rolled back to v41")
        );
        std::fs::write(shots.join("INC-1.md"), &md).unwrap();

        // Switch to French.
        c.find(Locator::LinkText("Français")).await?.click().await?;
        c.wait()
            .for_element(Locator::XPath("//h2[contains(., 'Chronologie détaillée')]"))
            .await?;
        let lang = c.find(Locator::Css("html")).await?.attr("lang").await?;
        assert_eq!(lang.as_deref(), Some("fr"));
        c.goto(&url_of(&base, "/incidents/INC-1")).await?;
        let page = c.source().await?;
        assert!(
            page.contains("Ajouter à la chronologie") && page.contains("En cours"),
            "the choice sticks"
        );
        std::fs::write(shots.join("04-french.png"), c.screenshot().await?).unwrap();
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    result.unwrap();
    eprintln!("screenshots in {}", shots.display());
}

fn url_of(base: &str, path: &str) -> String {
    format!("{base}{path}")
}

/// A plain HTTP request with a JSON body, as an API client would send it.
fn http_json(method: &str, url: &str, body: &serde_json::Value) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let body = body.to_string();
    let mut s = TcpStream::connect(host).unwrap();
    write!(
        s,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    raw
}

/// Wait until the page's timeline shows `text` (the page is not reloaded: the live script
/// swaps the timeline in); how long it took.
async fn until_shown(
    c: &fantoccini::Client,
    text: &str,
    within: Duration,
) -> Result<Duration, fantoccini::error::CmdError> {
    let start = Instant::now();
    loop {
        let shown = c
            .execute(
                "var t = document.getElementById('timeline-entries'); return !!t && t.textContent.indexOf(arguments[0]) >= 0;",
                vec![serde_json::json!(text)],
            )
            .await?;
        if shown == serde_json::json!(true) {
            return Ok(start.elapsed());
        }
        assert!(
            start.elapsed() < within,
            "{text:?} not shown within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Wait until the page's live stream is open.
async fn until_live(c: &fantoccini::Client) -> Result<(), fantoccini::error::CmdError> {
    c.wait()
        .for_element(Locator::Css("body[data-live-open]"))
        .await
        .map(drop)
}

/// What sticks out to the right when the page scrolls sideways (empty when it does not).
async fn scrolls_sideways(c: &fantoccini::Client) -> Result<String, fantoccini::error::CmdError> {
    let v = c
        .execute(
            "var w = document.documentElement.clientWidth; if (document.documentElement.scrollWidth <= w) return ''; \
             return Array.from(document.querySelectorAll('body *')).filter(function (e) { return e.getBoundingClientRect().right > w + 1; }) \
             .slice(0, 5).map(function (e) { return e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right); }).join(', ');",
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or("?").to_owned())
}

/// Payloads that would run script if they became markup; each sets `window.__xss`.
const XSS: [&str; 8] = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=\"window.__xss=1\">",
    "<svg onload=\"window.__xss=1\"></svg>",
    "[click me](javascript:window.__xss=1)",
    "<a href=\"#\" onmouseover=\"window.__xss=1\">hover</a>",
    "<iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>",
    "<details open ontoggle=\"window.__xss=1\">x</details>",
    "```\n</code></pre><script>window.__xss=1</script>\n```",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn war_room_and_review_desk_in_real_browsers() {
    let Some((driver_bin, chromium)) = browser_bins() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shots = screenshots();
    let (_server, base) = start_muster(dir.path());
    // The browsers live in Montréal: pages show their time zone, the record stays UTC.
    let (_driver, port) = start_driver(&driver_bin, &[("TZ", "America/Montreal")]).await;
    let a = session(port, &chromium, &dir.path().join("a"), &[]).await;
    let b = session(port, &chromium, &dir.path().join("b"), &[]).await;
    let api = format!("{base}/api/v1/incidents");
    let declared = http_json(
        "POST",
        &api,
        &serde_json::json!({"title": "Payments down", "severity": "SEV1"}),
    );
    assert!(declared.starts_with("HTTP/1.1 201"), "{declared}");
    let page = format!("{base}/incidents/INC-1");

    let result = async {
        // Two people on the same page see each other's notes without reloading.
        a.goto(&page).await?;
        b.goto(&page).await?;
        until_live(&a).await?;
        until_live(&b).await?;
        a.find(Locator::Id("note-text"))
            .await?
            .send_keys("Failover started")
            .await?;
        a.find(Locator::XPath(
            "//form[@action='/incidents/INC-1/notes']//button",
        ))
        .await?
        .click()
        .await?;
        let took = until_shown(&b, "Failover started", Duration::from_secs(1)).await?;
        eprintln!("form note in one browser → shown in the other: {took:?}");

        // A note through the API reaches the open page: 20 times, median and worst.
        let mut times = Vec::new();
        for k in 0..20 {
            let text = format!("API note {k}");
            let sent = Instant::now();
            let r = http_json(
                "POST",
                &format!("{api}/INC-1/timeline"),
                &serde_json::json!({ "text": text }),
            );
            assert!(r.starts_with("HTTP/1.1 201"), "{r}");
            until_shown(&b, &text, Duration::from_secs(1)).await?;
            times.push(sent.elapsed());
        }
        times.sort();
        eprintln!(
            "API note → shown in an open page (20 notes): median {:?}, worst {:?}",
            times[10], times[19]
        );
        std::fs::write(shots.join("10-live.png"), b.screenshot().await?).unwrap();

        // Markdown renders; hostile text stays text and runs nothing.
        for p in XSS {
            let r = http_json(
                "POST",
                &format!("{api}/INC-1/timeline"),
                &serde_json::json!({ "text": p }),
            );
            assert!(r.starts_with("HTTP/1.1 201"), "{r}");
        }
        let md = "Rolled **back** to `v41`, see https://status.example/x";
        http_json(
            "POST",
            &format!("{api}/INC-1/timeline"),
            &serde_json::json!({ "text": md }),
        );
        until_shown(&b, "Rolled back to v41", Duration::from_secs(2)).await?;
        b.find(Locator::XPath("//td//strong[.='back']")).await?;
        b.find(Locator::XPath("//td//code[.='v41']")).await?;
        b.find(Locator::XPath(
            "//td//a[@href='https://status.example/x' and @rel='noopener noreferrer nofollow']",
        ))
        .await?;
        b.goto(&page).await?;
        for el in b.find_all(Locator::Css("#timeline-entries a")).await? {
            if let Some(href) = el.attr("href").await? {
                assert!(href.starts_with("https://"), "link {href}");
            }
            el.click().await.ok();
            if b.current_url().await?.as_str() != page {
                b.back().await?;
            }
        }
        let clean = b
            .execute(
                "return window.__xss === undefined && document.querySelectorAll('#main script, #main img, #main svg, #main iframe').length === 0;",
                vec![],
            )
            .await?;
        assert_eq!(clean, serde_json::json!(true), "hostile text ran or became markup");
        let literal = b.find(Locator::Css("#timeline-entries")).await?.text().await?;
        assert!(literal.contains("<script>window.__xss=1</script>"), "shown as typed");
        std::fs::write(shots.join("11-markdown-and-xss.png"), b.screenshot().await?).unwrap();

        // Times in the viewer's zone, 24-hour, switchable to UTC.
        let first = b.find(Locator::Css("#timeline-entries td.when time")).await?;
        let local = first.text().await?;
        assert!(
            ["EST", "EDT", "GMT-5", "GMT-4"].iter().any(|z| local.ends_with(z)),
            "local time: {local}"
        );
        let iso = first.attr("datetime").await?.unwrap();
        b.find(Locator::Css("#tz-control button")).await?.click().await?;
        let utc = b
            .find(Locator::Css("#timeline-entries td.when time"))
            .await?
            .text()
            .await?;
        assert_eq!(utc, format!("{} {} UTC", &iso[..10], &iso[11..16]), "UTC on request");
        let rel = b.find(Locator::Css("#glance time[data-rel]")).await?;
        assert!(rel.attr("title").await?.unwrap().ends_with("UTC"));

        // The review desk: every report section from the web, then no placeholder left.
        a.goto(&page).await?;
        a.find(Locator::Css("#sections summary")).await?.click().await?;
        let areas = a.find_all(Locator::Css("#sections textarea")).await?;
        assert_eq!(areas.len(), 12, "every report section");
        for (k, area) in areas.iter().enumerate() {
            area.send_keys(&format!("Section {k} written on the web")).await?;
        }
        a.find(Locator::XPath("//details[@id='sections']//button"))
            .await?
            .click()
            .await?;
        a.wait()
            .for_element(Locator::Css("div.notice[role='status']"))
            .await?;
        a.find(Locator::Css("#details summary")).await?.click().await?;
        let title = a.find(Locator::Id("edit-title")).await?;
        title.clear().await?;
        title.send_keys("Payments down after the v42 deploy").await?;
        a.find(Locator::XPath("//details[@id='details']//button"))
            .await?
            .click()
            .await?;
        a.wait()
            .for_element(Locator::XPath("//h1[contains(., 'after the v42 deploy')]"))
            .await?;
        a.find(Locator::LinkText("Report")).await?.click().await?;
        a.wait()
            .for_element(Locator::XPath("//h2[contains(., 'Detailed timeline')]"))
            .await?;
        let report = a.source().await?;
        for k in 0..12 {
            assert!(report.contains(&format!("Section {k} written on the web")), "section {k}");
        }
        for prompt in ["To be written", "What set the incident off", "Ask why until"] {
            assert!(!report.contains(prompt), "placeholder left: {prompt}");
        }
        std::fs::write(shots.join("12-report-written.png"), a.screenshot().await?).unwrap();

        // Resolve asks first.
        a.goto(&page).await?;
        a.find(Locator::Css("#status-severity summary")).await?.click().await?;
        a.find(Locator::LinkText("Resolve (impact is over)")).await?.click().await?;
        a.wait()
            .for_element(Locator::XPath("//h1[.='Resolve INC-1?']"))
            .await?;
        a.find(Locator::Css("button.primary")).await?.click().await?;
        a.wait()
            .for_element(Locator::XPath("//span[contains(@class,'status resolved') and contains(., 'Ready to be Reviewed')]"))
            .await?;

        // A phone's width: no page scrolls sideways.
        a.set_window_size(390, 844).await?;
        for (n, path) in [
            "/incidents",
            "/incidents/INC-1",
            "/incidents/INC-1/report",
            "/incidents/new",
            "/stats",
            "/incidents/INC-1/close",
        ]
        .iter()
        .enumerate()
        {
            a.goto(&format!("{base}{path}")).await?;
            std::fs::write(shots.join(format!("2{n}-phone.png")), a.screenshot().await?).unwrap();
            let wide = scrolls_sideways(&a).await?;
            assert!(wide.is_empty(), "{path} scrolls sideways at 390 px: {wide}");
        }
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = a.close().await;
    let _ = b.close().await;
    result.unwrap();

    // Dark mode follows the system.
    let d = session(
        port,
        &chromium,
        &dir.path().join("dark"),
        &[
            "--force-dark-mode",
            "--blink-settings=preferredColorScheme=0",
        ],
    )
    .await;
    let result = async {
        d.goto(&page).await?;
        let bg = d
            .execute(
                "return [matchMedia('(prefers-color-scheme: dark)').matches, getComputedStyle(document.body).backgroundColor];",
                vec![],
            )
            .await?;
        assert_eq!(bg, serde_json::json!([true, "rgb(21, 24, 28)"]), "dark page");
        std::fs::write(shots.join("30-dark.png"), d.screenshot().await?).unwrap();
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = d.close().await;
    result.unwrap();
    eprintln!("screenshots in {}", shots.display());
}
