//! The real page in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver + fantoccini). A generated WAV is uploaded through the page's file input and
//! the emotion the page shows in `#emotion` must be the one the API gives for the same file;
//! an error after a result must replace it (issue 25, finding 5), and the page runs under its
//! Content-Security-Policy without a single violation.
//!
//! Skips loudly when chromium or chromedriver is missing, unless `SER_REQUIRE_BROWSER=1`
//! (set by `.ci/run`, which installs them), where a missing browser is a failure.
//! Binaries can be overridden with `SER_CHROMIUM` / `SER_CHROMEDRIVER`.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

mod common;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::model::{test_model, test_model_with_cv_ua, test_model_with_metrics};
use common::*;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use ser_web::ServerConfig;

fn find_binary(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Kills and reaps chromedriver (a process this test started) however the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_chromedriver(bin: &Path) -> (Driver, String) {
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let driver = Driver(child);
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut r) = agent().get(&format!("{url}/status")).call()
            && r.body_mut()
                .read_to_string()
                .is_ok_and(|s| s.contains("\"ready\":true"))
        {
            return (driver, url);
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A running chromedriver and the capabilities of a headless Chromium session.
struct Browser {
    _driver: Driver,
    url: String,
    caps: serde_json::Map<String, serde_json::Value>,
    _profile: tempfile::TempDir,
}

/// Starts chromedriver, or returns `None` (after a loud message) when the browser is missing
/// and `SER_REQUIRE_BROWSER` is not 1.
fn browser() -> Option<Browser> {
    let chromium = find_binary("SER_CHROMIUM", &["chromium", "chromium-browser"]);
    let chromedriver = find_binary("SER_CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        if std::env::var("SER_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "SER_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed \
                 (apt-get install chromium chromium-driver)"
            );
        }
        // Straight to the process's stderr, not `eprintln!`: libtest captures the macros'
        // output of passing tests, and this skip must be seen.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"\n!!!!!!!! SKIPPED the real-browser test: chromium and/or chromedriver not found \
              on PATH. Install them with `apt-get install chromium chromium-driver` (CI sets \
              SER_REQUIRE_BROWSER=1 to make this a failure). !!!!!!!!\n",
        );
        return None;
    };
    let (driver, url) = start_chromedriver(&chromedriver);
    let profile = tempfile::tempdir().unwrap();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1200,1500",
                // A fake microphone (a beeping tone) that needs no permission prompt, so the
                // page's recording path (WebAudio capture + WAV encoding in JS) runs for real.
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }
    });
    Some(Browser {
        _driver: driver,
        url,
        caps: caps.as_object().unwrap().clone(),
        _profile: profile,
    })
}

/// Runs `steps` in a fresh WebDriver session; the session is closed however they end.
fn in_browser<F, Fut>(browser: &Browser, steps: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<(), CmdError>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(browser.caps.clone())
            .connect(&browser.url)
            .await
            .expect("WebDriver session");
        let outcome = steps(client.clone()).await;
        let _ = client.close().await;
        outcome.expect("browser steps");
    });
}

/// Waits until `body[data-state=state]` (the page's idle/busy/done/error state).
async fn wait_state(client: &Client, state: &str) -> Result<(), CmdError> {
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(&format!("body[data-state='{state}']")))
        .await
        .map(|_| ())
}

/// Records every Content-Security-Policy violation from now on in `window.cspViolations`
/// (WebDriver's scripts are exempt from the page's CSP; the page's own code is not).
async fn watch_csp(client: &Client) -> Result<(), CmdError> {
    client
        .execute(
            "window.cspViolations = []; document.addEventListener('securitypolicyviolation', \
             (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI)); \
             return true;",
            vec![],
        )
        .await
        .map(|_| ())
}

async fn csp_violations(client: &Client) -> Result<serde_json::Value, CmdError> {
    client.execute("return window.cspViolations;", vec![]).await
}

#[test]
fn page_shows_the_emotion_of_an_uploaded_wav() {
    let Some(browser) = browser() else { return };
    let server = TestServer::start(test_model(), ServerConfig::default());
    let tmp = tempfile::tempdir().unwrap();
    let short = tmp.path().join("short.wav");
    std::fs::write(&short, speech_wav(16_000, 3.0)).unwrap();
    let long = tmp.path().join("long.wav");
    std::fs::write(&long, speech_wav(16_000, 10.0)).unwrap();
    let not_audio = tmp.path().join("notes.txt");
    std::fs::write(&not_audio, "this is not audio").unwrap();
    // Issue 27: a tone is answered "no speech", and the page says so.
    let tone = tmp.path().join("tone.wav");
    let sine: Vec<f32> = (0..32_000)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
        .collect();
    std::fs::write(&tone, wav_bytes(&[sine], 16_000, WavFormat::Int(16))).unwrap();
    // What the API itself says about these files: the page must show the same.
    let (_, api_short) = post_audio(&server, &std::fs::read(&short).unwrap());
    let (_, api_long) = post_audio(&server, &std::fs::read(&long).unwrap());
    let page_url = server.url("/");

    in_browser(&browser, |client| async move {
        client.goto(&page_url).await?;
        watch_csp(&client).await?;
        // The test model records no accuracy, and the page says so.
        client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(
                "//p[@id='accuracy' and contains(., 'not recorded')]",
            ))
            .await?;

        // 1. A short clip: emotion + one bar per label, no timeline.
        let input = client.find(Locator::Id("file")).await?;
        input.send_keys(&short.display().to_string()).await?;
        wait_state(&client, "done").await?;
        let shown = client.find(Locator::Id("emotion")).await?.text().await?;
        let bars = client.find_all(Locator::Css("#bars .bar")).await?;
        let timeline_hidden = client
            .find(Locator::Id("timeline-box"))
            .await?
            .attr("hidden")
            .await?;
        // CSS capitalises the label for display.
        assert_eq!(
            shown.to_lowercase(),
            api_short["emotion"].as_str().unwrap(),
            "{api_short}"
        );
        assert_eq!(bars.len(), api_short["labels"].as_array().unwrap().len());
        assert!(timeline_hidden.is_some(), "a 3 s clip has no timeline");

        // 2. A long clip: a timeline with one block per window.
        let input = client.find(Locator::Id("file")).await?;
        input.send_keys(&long.display().to_string()).await?;
        client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css("#timeline .seg"))
            .await?;
        wait_state(&client, "done").await?;
        let shown = client.find(Locator::Id("emotion")).await?.text().await?;
        assert_eq!(shown.to_lowercase(), api_long["emotion"].as_str().unwrap());
        let segs = client.find_all(Locator::Css("#timeline .seg")).await?;
        assert_eq!(segs.len(), api_long["segments"].as_array().unwrap().len());

        if let Some(dir) = std::env::var_os("SER_SCREENSHOT_DIR") {
            let png = client.screenshot().await?;
            std::fs::write(Path::new(&dir).join("ser-web-long.png"), png).unwrap();
        }

        // 2b. A tone: "No speech" and why, no bars.
        let input = client.find(Locator::Id("file")).await?;
        input.send_keys(&tone.display().to_string()).await?;
        client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::XPath(
                "//*[@id='emotion' and normalize-space(.)='No speech']",
            ))
            .await?;
        wait_state(&client, "done").await?;
        let message = client.find(Locator::Id("message")).await?.text().await?;
        assert!(message.starts_with("no speech"), "{message}");
        assert!(
            client
                .find_all(Locator::Css("#bars .bar"))
                .await?
                .is_empty()
        );
        if let Some(dir) = std::env::var_os("SER_SCREENSHOT_DIR") {
            let png = client.screenshot().await?;
            std::fs::write(Path::new(&dir).join("ser-web-no-speech.png"), png).unwrap();
        }

        // 3. Microphone: record ~1.5 s from the fake device, stop, get an answer.
        client.find(Locator::Id("record")).await?.click().await?;
        client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#record.recording"))
            .await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        client.find(Locator::Id("record")).await?.click().await?;
        client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::XPath(
                "//p[@id='status' and starts-with(normalize-space(.), 'recording:')]",
            ))
            .await?;
        wait_state(&client, "done").await?;
        let status = client.find(Locator::Id("status")).await?.text().await?;
        let shown = client.find(Locator::Id("emotion")).await?.text().await?;
        assert!(!shown.is_empty(), "no emotion after recording ({status})");
        // "recording: 1.49 s at 48000 Hz": a real clip of about the recorded length.
        let secs: f64 = status
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("unexpected status {status:?}"));
        assert!((0.5..10.0).contains(&secs), "{status}");

        // 4. Not audio: the server's error is shown to the user.
        let input = client.find(Locator::Id("file")).await?;
        input.send_keys(&not_audio.display().to_string()).await?;
        wait_state(&client, "error").await?;
        let err = client.find(Locator::Id("error")).await?.text().await?;
        assert!(err.contains("unsupported audio format"), "{err}");

        // Everything above ran under the page's Content-Security-Policy.
        let violations = csp_violations(&client).await?;
        assert_eq!(violations, serde_json::json!([]), "CSP violations");
        Ok(())
    });
}

/// Issue 25, finding 5: an error after a result left the old emotion on screen (users read it
/// as the answer to the new file), and the accuracy was read from the wrong field of
/// `/api/model` and never shown.
#[test]
fn issue25_an_error_replaces_the_previous_result_and_the_accuracy_is_shown() {
    let Some(browser) = browser() else { return };
    let server = TestServer::start(test_model_with_cv_ua(0.6805), ServerConfig::default());
    let tmp = tempfile::tempdir().unwrap();
    let clip = tmp.path().join("clip.wav");
    std::fs::write(&clip, speech_wav(16_000, 3.0)).unwrap();
    let not_audio = tmp.path().join("notes.txt");
    std::fs::write(&not_audio, "this is not audio").unwrap();
    let (_, api) = post_audio(&server, &std::fs::read(&clip).unwrap());
    let (_, info) = get_json(&server, "/api/model");
    let ua = info["metrics"]["cv"]["ua"]["mean"].as_f64().unwrap();
    let percent = format!("{:.0}%", 100.0 * ua);
    let page_url = server.url("/");

    in_browser(&browser, |client| async move {
        client.goto(&page_url).await?;
        watch_csp(&client).await?;
        // A good upload: the answer, big, with its confidence.
        let input = client.find(Locator::Id("file")).await?;
        input.send_keys(&clip.display().to_string()).await?;
        wait_state(&client, "done").await?;
        let emotion = client.find(Locator::Id("emotion")).await?;
        assert!(emotion.is_displayed().await?);
        assert_eq!(
            emotion.text().await?.to_lowercase(),
            api["emotion"].as_str().unwrap()
        );
        let confidence = client.find(Locator::Id("confidence")).await?.text().await?;
        let expected = format!("{:.0}%", 100.0 * api["confidence"].as_f64().unwrap());
        assert!(confidence.contains(&expected), "{confidence} vs {expected}");

        // Then a bad file: the old emotion must be gone, the error shown in its place.
        let input = client.find(Locator::Id("file")).await?;
        input.send_keys(&not_audio.display().to_string()).await?;
        wait_state(&client, "error").await?;
        let error = client.find(Locator::Id("error")).await?;
        assert!(error.is_displayed().await?, "the error is not visible");
        let text = error.text().await?;
        assert!(text.contains("unsupported audio format"), "{text}");
        for id in ["result", "emotion", "confidence", "bars"] {
            let el = client.find(Locator::Id(id)).await?;
            assert!(
                !el.is_displayed().await?,
                "#{id} still visible after the error: {:?}",
                el.text().await?
            );
        }
        // The accuracy recorded in /api/model, in plain words.
        // "about 68% on speakers it never heard, chance 12.5%"
        let accuracy = client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&format!(
                "//p[@id='accuracy' and contains(., '{percent}')]"
            )))
            .await?
            .text()
            .await?;
        assert!(
            accuracy.contains(&format!("about {percent}"))
                && accuracy.contains("never heard")
                && accuracy.contains("12.5%"),
            "{accuracy}"
        );

        if let Some(dir) = std::env::var_os("SER_SCREENSHOT_DIR") {
            let png = client.screenshot().await?;
            std::fs::write(Path::new(&dir).join("ser-web-error.png"), png).unwrap();
        }
        let violations = csp_violations(&client).await?;
        assert_eq!(violations, serde_json::json!([]), "CSP violations");
        Ok(())
    });
}

/// Issue 27: the shipped model's cross-validation scored EMO-DB speakers only (`ser-train cv
/// --test-corpus emodb`: one `by_corpus` row per fold, 6 labels), so the page names the corpus
/// and gives its chance level (1/6), not the 8-label one.
#[test]
fn issue27_the_accuracy_line_names_the_corpus_a_cross_validation_scored() {
    let Some(browser) = browser() else { return };
    let fold = |ua: f64| {
        serde_json::json!({"ua": ua, "test_actors": ["emodb:03", "emodb:08"], "by_corpus": [{
            "corpus": "emodb", "n": 90, "ua": ua, "wa": ua, "macro_f1": ua,
            "labels": ["neutral", "happy", "sad", "angry", "fearful", "disgust"]}]})
    };
    let metrics = serde_json::json!({"cv": {"ua": {"mean": 0.7775, "std": 0.08},
        "folds": [fold(0.7), fold(0.85)]}});
    let accuracy = accuracy_line(&browser, metrics, "78%");
    assert!(
        accuracy.contains("speakers of the emodb corpus it never heard")
            && accuracy.contains("6 emotions")
            && accuracy.contains("16.7%")
            && !accuracy.contains("12.5%"),
        "{accuracy}"
    );
}

/// The page's accuracy line (`#accuracy`) for a model whose manifest records `metrics`, read
/// once it shows `shown`.
fn accuracy_line(browser: &Browser, metrics: serde_json::Value, shown: &str) -> String {
    let server = TestServer::start(test_model_with_metrics(metrics), ServerConfig::default());
    let page_url = server.url("/");
    let xpath = format!("//p[@id='accuracy' and contains(., '{shown}')]");
    let cell = std::sync::Mutex::new(String::new());
    let line = &cell;
    in_browser(browser, |client| async move {
        client.goto(&page_url).await?;
        let text = client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await?
            .text()
            .await?;
        *line.lock().unwrap() = text;
        Ok(())
    });
    cell.into_inner().unwrap()
}

/// Issue 27: the shipped model's manifest also records its recipe's cross-validation on
/// RAVDESS actors (`metrics.extra_cv`, `ser-train cv-attach`); the page gives both estimates,
/// each with its corpus and chance level, its own cross-validation first.
#[test]
fn issue27_the_accuracy_line_gives_every_corpus_the_recipe_was_scored_on() {
    let Some(browser) = browser() else { return };
    let fold = |corpus: &str, labels: &[&'static str], ua: f64| {
        serde_json::json!({"ua": ua, "test_actors": [format!("{corpus}:03")], "by_corpus": [{
            "corpus": corpus, "n": 90, "ua": ua, "wa": ua, "macro_f1": ua, "labels": labels}]})
    };
    let emodb = ["neutral", "happy", "sad", "angry", "fearful", "disgust"];
    let ravdess = ravdess_loader::Emotion::ALL.map(ravdess_loader::Emotion::name);
    let metrics = serde_json::json!({
        "cv": {"ua": {"mean": 0.7775, "std": 0.08},
               "folds": [fold("emodb", &emodb, 0.7), fold("emodb", &emodb, 0.85)]},
        "extra_cv": [{"ua": {"mean": 0.6586, "std": 0.05}, "protocol": "5-fold CV by actor",
               "folds": [fold("ravdess", &ravdess, 0.6), fold("ravdess", &ravdess, 0.7)]}],
    });
    let accuracy = accuracy_line(&browser, metrics, "66%");
    let emodb = "about 78% on speakers of the emodb corpus it never heard (6 emotions; \
                 chance: 16.7%)";
    let ravdess = "about 66% on speakers of the ravdess corpus it never heard (8 emotions; \
                   chance: 12.5%)";
    assert_eq!(accuracy, format!("Accuracy: {emodb}; {ravdess}."));
}
