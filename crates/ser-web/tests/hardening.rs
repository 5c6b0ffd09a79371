//! Regression tests of issue 25 (hardening, findings 4 and 7): connection timeouts, the
//! connection limit, the shutdown deadline, security headers, the Origin check, bounded file
//! names and case-insensitive media types. Raw TCP clients play the attacker; every timeout is
//! set to a few hundred milliseconds so the tests run fast.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::model::test_model;
use common::*;
use ser_web::ServerConfig;

/// Short timeouts for the tests; the one a test is about is set shorter still, the others
/// long, so that the connection is closed by the rule under test and no other.
fn config(header: u64, body: u64, idle: u64) -> ServerConfig {
    ServerConfig {
        header_read_timeout: Duration::from_millis(header),
        body_timeout: Duration::from_millis(body),
        idle_timeout: Duration::from_millis(idle),
        ..ServerConfig::default()
    }
}

const LONG: u64 = 30_000;
/// How long a test waits for a close that should come after a few hundred milliseconds. The
/// margin is wide because the machine may be busy compiling; the server today never closes.
const PATIENCE: Duration = Duration::from_secs(4);
const TICK: Duration = Duration::from_millis(50);

fn connect(s: &TestServer) -> TcpStream {
    let tcp = TcpStream::connect(s.addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp
}

#[test]
fn issue25_partial_headers_are_disconnected_after_the_header_timeout() {
    // The client keeps the connection busy (a header byte every 50 ms), so only the header
    // deadline can close it.
    let s = TestServer::start(test_model(), config(300, LONG, LONG));
    let mut tcp = connect(&s);
    tcp.write_all(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let watched = watch_close(&mut tcp, PATIENCE, TICK, |t| {
        let _ = t.write_all(b"a");
    });
    assert!(
        matches!(watched, Watched::Closed(d, _) if d < Duration::from_secs(2)),
        "{watched:?}"
    );
}

#[test]
fn issue25_a_silent_connection_is_closed() {
    let s = TestServer::start(test_model(), config(LONG, LONG, 300));
    let mut tcp = connect(&s);
    let watched = watch_close(&mut tcp, PATIENCE, TICK, |_| {});
    assert!(
        matches!(watched, Watched::Closed(d, _) if d < Duration::from_secs(2)),
        "{watched:?}"
    );
}

#[test]
fn issue25_an_idle_keep_alive_connection_is_closed() {
    let s = TestServer::start(test_model(), config(LONG, LONG, 300));
    let mut tcp = connect(&s);
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let watched = watch_close(&mut tcp, PATIENCE, TICK, |_| {});
    let Watched::Closed(d, got) = watched else {
        panic!("an idle keep-alive connection stayed open: {watched:?}");
    };
    let text = String::from_utf8_lossy(&got);
    // The request was answered (HTTP/1.1 keeps the connection alive), then the idle
    // connection was closed.
    assert!(
        text.starts_with("HTTP/1.1 200") && text.contains("\"ok\""),
        "{text}"
    );
    assert!(d < Duration::from_secs(2), "closed only after {d:?}");
}

#[test]
fn issue25_a_one_byte_per_tick_body_gets_408_within_the_body_timeout() {
    // Idle and header timeouts long: the body deadline alone must end this upload.
    let s = TestServer::start(test_model(), config(LONG, 500, LONG));
    let mut tcp = connect(&s);
    tcp.write_all(
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\n\
          Content-Length: 100000\r\n\r\nRIFF",
    )
    .unwrap();
    let watched = watch_close(&mut tcp, PATIENCE, Duration::from_millis(100), |t| {
        let _ = t.write_all(b"x");
    });
    let (closed, got) = match &watched {
        Watched::Closed(_, got) => (true, got),
        Watched::Open(got) => (false, got),
    };
    let text = String::from_utf8_lossy(got);
    assert!(text.starts_with("HTTP/1.1 408"), "{watched:?}: {text}");
    assert!(text.contains("\"body_timeout\""), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    assert!(closed, "the connection stayed open after the 408: {text}");
}

#[cfg(target_os = "linux")]
#[test]
fn issue25_connections_beyond_the_limit_wait_instead_of_piling_up() {
    let s = TestServer::start(
        test_model(),
        ServerConfig {
            max_connections: 3,
            ..config(LONG, LONG, LONG)
        },
    );
    // 20 silent connections: the kernel completes every handshake, the server accepts 3.
    let silent: Vec<TcpStream> = (0..20).map(|_| connect(&s)).collect();
    std::thread::sleep(Duration::from_millis(400));
    let accepted = accepted_sockets(s.addr.port());
    assert!(accepted <= 3, "{accepted} connections accepted, limit 3");
    // A request beyond the limit waits: not answered while the three slots are held...
    let mut waiting = connect(&s);
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let early = watch_close(&mut waiting, Duration::from_millis(400), TICK, |_| {});
    assert!(
        matches!(&early, Watched::Open(got) if got.is_empty()),
        "answered beyond the limit: {early:?}"
    );
    // ... and answered once the silent clients go away.
    drop(silent);
    let late = watch_close(&mut waiting, PATIENCE, TICK, |_| {});
    let Watched::Closed(_, got) = &late else {
        panic!("not answered after the slots were freed: {late:?}");
    };
    assert!(
        String::from_utf8_lossy(got).starts_with("HTTP/1.1 200"),
        "{late:?}"
    );
}

#[test]
fn issue25_shutdown_finishes_within_the_deadline_while_clients_stall() {
    let s = TestServer::start(
        test_model(),
        ServerConfig {
            shutdown_timeout: Duration::from_millis(300),
            ..config(LONG, LONG, LONG)
        },
    );
    // One client stalls in its headers, one in its body.
    let mut in_head = connect(&s);
    in_head
        .write_all(b"POST /api/predict HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut in_body = connect(&s);
    in_body
        .write_all(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nRIFF")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let took = s.stop_within(Duration::from_secs(5));
    assert!(
        took.is_some_and(|d| d < Duration::from_secs(3)),
        "shutdown took {took:?} (deadline 300 ms)"
    );
    // Both stalled connections were dropped.
    for tcp in [&mut in_head, &mut in_body] {
        let w = watch_close(tcp, Duration::from_secs(1), TICK, |_| {});
        assert!(matches!(w, Watched::Closed(..)), "{w:?}");
    }
}

#[test]
fn shutdown_lets_an_in_flight_upload_finish() {
    let s = TestServer::start(
        test_model(),
        ServerConfig {
            shutdown_timeout: Duration::from_secs(20),
            ..config(LONG, LONG, LONG)
        },
    );
    let wav = speech_wav(16_000, 1.0);
    let mut tcp = connect(&s);
    write!(
        tcp,
        "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\n\
         Content-Length: {}\r\n\r\n",
        wav.len()
    )
    .unwrap();
    let (first, rest) = wav.split_at(wav.len() / 2);
    tcp.write_all(first).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // Shut down while the upload is half sent; the rest arrives afterwards.
    let stopper = std::thread::spawn(move || s.stop_within(Duration::from_secs(30)));
    std::thread::sleep(Duration::from_millis(200));
    tcp.write_all(rest).unwrap();
    let watched = watch_close(&mut tcp, Duration::from_secs(20), TICK, |_| {});
    let Watched::Closed(_, got) = &watched else {
        panic!("no answer: {watched:?}");
    };
    assert!(
        String::from_utf8_lossy(got).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(got)
    );
    let took = stopper.join().unwrap();
    assert!(took.is_some(), "the server did not stop");
}

// ---- finding 7: headers, Origin, file names, media types ------------------------------------

fn header(resp: &ureq::http::Response<ureq::Body>, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn issue25_every_response_carries_security_headers() {
    let s = TestServer::start(test_model(), ServerConfig::default());
    for path in [
        "/",
        "/app.js",
        "/style.css",
        "/api/model",
        "/healthz",
        "/nope",
    ] {
        let resp = agent().get(&s.url(path)).call().unwrap();
        let csp = header(&resp, "content-security-policy");
        for needle in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(needle), "{path}: CSP {csp:?} lacks {needle}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&resp, "referrer-policy"), "no-referrer", "{path}");
    }
    // The CSP forbids inline script and style, so the page must have none.
    let html = agent()
        .get(&s.url("/"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(!html.contains("<script>"), "inline script");
    assert!(!html.contains("<style"), "inline style element");
    assert!(!html.contains(" style="), "inline style attribute");
    let handler = html.split(" on").skip(1).find(|rest| {
        let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
        !name.is_empty() && rest[name.len()..].starts_with('=')
    });
    assert!(handler.is_none(), "inline event handler: on{handler:?}");
    // Errors from the upload endpoint carry them too.
    let resp = agent()
        .post(&s.url("/api/predict"))
        .header("Content-Type", "audio/wav")
        .send(&b""[..])
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
}

fn post_with_origin(s: &TestServer, origin: Option<&str>, body: &[u8]) -> (u16, serde_json::Value) {
    let mut req = agent()
        .post(&s.url("/api/predict"))
        .header("Content-Type", "audio/wav");
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    let mut resp = req.send(body).unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

#[test]
fn issue25_a_cross_site_origin_is_refused_with_403() {
    let s = TestServer::start(test_model(), ServerConfig::default());
    let wav = speech_wav(16_000, 1.0);
    for origin in [
        "http://evil.example",
        "https://evil.example:8080",
        "null",
        "http://127.0.0.1:1",
        "garbage",
    ] {
        let (status, json) = post_with_origin(&s, Some(origin), &wav);
        assert_eq!(status, 403, "{origin}: {json}");
        assert_eq!(json["error"], "cross_origin", "{json}");
        let detail = json["detail"].as_str().unwrap();
        assert!(detail.contains("Origin"), "{detail}");
    }
    // A huge Origin is not echoed whole.
    let long = format!("http://{}.example", "a".repeat(5000));
    let (status, json) = post_with_origin(&s, Some(&long), &wav);
    assert_eq!(status, 403);
    assert!(json["detail"].as_str().unwrap().len() < 1000, "{json}");
    // Same origin (as a browser on the page sends it, any case) and no Origin (curl) pass.
    let same = format!("http://{}", s.addr);
    let upper = format!("HTTP://{}", s.addr);
    for origin in [Some(same.as_str()), Some(upper.as_str()), None] {
        let (status, json) = post_with_origin(&s, origin, &wav);
        assert_eq!(status, 200, "{origin:?}: {json}");
    }
}

#[test]
fn issue25_uploaded_file_names_are_bounded_in_answers() {
    let s = TestServer::start(test_model(), ServerConfig::default());
    // An empty file field is refused with its name in the detail: a 6000-character name of
    // multi-byte characters and JSON/HTML metacharacters must come back short and intact.
    let name = format!("{}'<b>&\\{}.wav", "é".repeat(3000), "😀".repeat(3000));
    let (ct, body) = multipart("file", &name, b"");
    let (status, json) = post(&s.url("/api/predict"), &ct, &body);
    assert_eq!(status, 400, "{json}");
    assert_eq!(json["error"], "empty_input");
    let detail = json["detail"].as_str().unwrap();
    assert!(
        detail.chars().count() < 400,
        "{} characters",
        detail.chars().count()
    );
    assert!(detail.contains(&"é".repeat(200)), "{detail}");
}

#[test]
fn issue25_an_upper_case_multipart_content_type_is_recognised() {
    let s = TestServer::start(test_model(), ServerConfig::default());
    let (ct, body) = multipart("file", "clip.wav", &speech_wav(16_000, 2.0));
    for ct in [
        ct.replace("multipart/form-data", "MULTIPART/FORM-DATA"),
        ct.replace("multipart/form-data", "Multipart/Form-Data"),
        ct.replace("multipart/form-data;", "multipart/form-data ;"),
    ] {
        let (status, json) = post(&s.url("/api/predict"), &ct, &body);
        assert_eq!(status, 200, "{ct}: {json}");
        assert_prediction_shape(&json, test_model().labels());
    }
}
