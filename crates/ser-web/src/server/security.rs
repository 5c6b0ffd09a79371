//! What protects the page and the upload endpoint from other web sites and from hostile
//! uploads (issue 25, finding 7): response headers that confine the page, the Origin check on
//! `POST /api/predict`, bounds on what a request can make us echo, and case-insensitive media
//! types.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::error::Error;

/// The page's Content-Security-Policy (CSP Level 3, <https://www.w3.org/TR/CSP3/>).
///
/// - `default-src 'self'`: everything from this server only (the page loads `/app.js` and
///   `/style.css`, and `fetch`es `/api/model` and `/api/predict`); no inline `<script>`,
///   no `style=` attributes and no `eval` (neither `'unsafe-inline'` nor `'unsafe-eval'`).
/// - `media-src 'self' blob:`: the page plays back what it analysed (a recording or chosen
///   file) from a `blob:` URL. The microphone itself is not governed by CSP.
/// - `object-src 'none'; base-uri 'none'; form-action 'self'`: no plugins, no `<base>` that
///   would redirect relative URLs, forms post only here.
/// - `frame-ancestors 'none'`: no other site may frame the page (clickjacking; CSP3 §6.4.2,
///   which supersedes `X-Frame-Options`).
pub(super) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; media-src 'self' blob:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every response (pages, scripts, JSON answers and errors).
pub(super) async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    // Browsers must use our Content-Type, never guess one (Fetch standard, "X-Content-Type-
    // Options"): a JSON error that echoes a file name can then never run as HTML or script.
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The page links nowhere else; send no Referer at all (W3C Referrer Policy §3.1).
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The longest uploaded file name echoed back in an answer, in characters: the common file
/// system limit (NAME_MAX = 255 on Linux ext4/xfs, 255 UTF-16 units on NTFS and APFS), so any
/// real name comes back whole and a hostile one cannot bloat the answer.
pub(super) const MAX_ECHOED_NAME_CHARS: usize = 255;

/// The longest `Origin` or `Host` echoed back in a 403 detail, in characters. A real origin
/// is a scheme and a host name (at most 253 characters, RFC 1035 §2.3.4).
const MAX_ECHOED_ORIGIN_CHARS: usize = 300;

/// The longest library message (e.g. the multipart parser's) echoed back, in characters; they
/// may quote field names the client chose.
pub(super) const MAX_ECHOED_DETAIL_CHARS: usize = 500;

/// `text` cut to at most `max` characters (never inside a UTF-8 sequence), with `…` marking
/// the cut. JSON escaping is serde_json's job: any string survives it.
pub(super) fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// Refuses a browser request sent from another site (cross-site request forgery: any page a
/// user visits could otherwise make their browser upload to a `ser-web` on their machine).
///
/// Browsers send `Origin` on every `POST` (Fetch standard, "append a request `Origin` header"),
/// and it is `scheme://host[:port]` (RFC 6454 §6.1) or `null`. It must name the host the
/// request was sent to, i.e. the `Host` header (RFC 9110 §7.2). A request without `Origin`
/// comes from a non-browser client (curl, scripts) that no other site can drive, and passes.
/// The scheme is not compared with ours: behind a TLS proxy the page is `https` while this
/// server speaks plain HTTP, and the proxy must pass `Host` through unchanged.
pub(super) fn check_origin(headers: &HeaderMap) -> Result<(), Error> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_text = origin.to_str().unwrap_or("(not ASCII)");
    if let Some(host) = host
        && same_origin(origin_text, host)
    {
        return Ok(());
    }
    Err(Error::CrossOrigin {
        origin: bounded(origin_text, MAX_ECHOED_ORIGIN_CHARS),
        host: bounded(host.unwrap_or("no Host header"), MAX_ECHOED_ORIGIN_CHARS),
    })
}

/// Whether the serialised origin `origin` names `host` (a `Host` header value). Scheme and
/// host are case-insensitive (RFC 3986 §3.1, §3.2.2); a default port may be written or not.
fn same_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false; // "null" (sandboxed frames, file: pages) or garbage
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    // A serialised origin has no path, query or user info.
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return false;
    }
    let normal = |a: &str| {
        let a = a.to_ascii_lowercase();
        a.strip_suffix(default_port)
            .map(str::to_string)
            .unwrap_or(a)
    };
    normal(authority) == normal(host)
}

/// Whether a `Content-Type` value is `multipart/form-data`. Media types are case-insensitive
/// and may have spaces before `;` (RFC 9110 §8.3.1, §5.6.6).
pub(super) fn is_multipart_form(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// `multipart/form-data; name=value...` with the type and the parameter names in lower case
/// (their case does not matter, RFC 9110 §8.3.1 and §5.6.6) and values untouched, for the
/// multipart parser, which compares them case-sensitively.
pub(super) fn normalised_multipart(content_type: &str) -> String {
    let mut out = String::from("multipart/form-data");
    for param in content_type.split(';').skip(1) {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        out.push_str("; ");
        match param.split_once('=') {
            Some((name, value)) => {
                out.push_str(&name.trim().to_ascii_lowercase());
                out.push('=');
                out.push_str(value.trim());
            }
            None => out.push_str(param),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_cuts_on_a_character_boundary() {
        assert_eq!(bounded("abc", 3), "abc");
        assert_eq!(bounded("abcd", 3), "abc…");
        assert_eq!(bounded("ééé😀", 3), "ééé…");
        assert_eq!(bounded("😀😀", 1), "😀…");
        assert_eq!(bounded("", 0), "");
    }

    #[test]
    fn same_origin_compares_host_and_port_only() {
        assert!(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_origin("https://Example.org", "example.org"));
        assert!(same_origin("http://example.org", "example.org:80"));
        assert!(same_origin("https://example.org:443", "example.org"));
        assert!(same_origin("HTTP://[::1]:8080", "[::1]:8080"));
        assert!(!same_origin("http://127.0.0.1:8081", "127.0.0.1:8080"));
        assert!(!same_origin("http://evil.example", "127.0.0.1:8080"));
        assert!(!same_origin("https://example.org", "example.org:80"));
        assert!(!same_origin("null", "127.0.0.1:8080"));
        assert!(!same_origin("file://", "127.0.0.1:8080"));
        assert!(!same_origin("http://a@127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(!same_origin("http://127.0.0.1:8080/x", "127.0.0.1:8080"));
    }

    #[test]
    fn media_types_are_case_insensitive() {
        assert!(is_multipart_form("multipart/form-data; boundary=x"));
        assert!(is_multipart_form("MULTIPART/FORM-DATA; boundary=x"));
        assert!(is_multipart_form(" Multipart/Form-Data ;boundary=x"));
        assert!(!is_multipart_form("multipart/mixed; boundary=x"));
        assert!(!is_multipart_form("audio/wav"));
        assert_eq!(
            normalised_multipart("MULTIPART/FORM-DATA ; BOUNDARY=AbC ;charset=x"),
            "multipart/form-data; boundary=AbC; charset=x"
        );
    }
}
