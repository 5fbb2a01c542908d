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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declare_and_run_an_incident_in_a_real_browser() {
    let (Some(driver_bin), Some(chromium)) = (find("chromedriver"), find("chromium")) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium and chromium-driver"
        );
        eprintln!("skipping: chromium or chromedriver is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let (_server, base) = start_muster(dir.path());

    let port = free_port();
    let _driver = Kill(
        Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = dir.path().join("profile");
    let caps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,1100",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }))
        .unwrap();
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver session");

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
