//! `data "http"`: the body and headers of an HTTP(S) response.

use super::check_args;
use hcl::{Map, Value};

/// `data "http"`: fetches `url`; outputs `url`, `body`, `response_headers` and `status_code`.
pub(crate) fn outputs(args: &Map<String, Value>) -> Result<Value, String> {
    check_args(args, &["url", "method", "request_headers", "request_body"])?;
    let url = args
        .get("url")
        .and_then(Value::as_str)
        .ok_or("the argument \"url\" is required")?
        .to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("{url:?} is not an http:// or https:// URL"));
    }
    let method = args
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_uppercase();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into();
    let mut req = ureq::http::Request::builder()
        .method(method.as_str())
        .uri(&url);
    if let Some(Value::Object(h)) = args.get("request_headers") {
        for (k, v) in h {
            req = req.header(k.as_str(), v.as_str().unwrap_or_default());
        }
    }
    let body = args
        .get("request_body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let req = req.body(body).map_err(|e| e.to_string())?;
    let mut resp = agent
        .run(req)
        .map_err(|e| format!("HTTP request to {url} failed: {e}"))?;
    let status = resp.status().as_u16();
    let mut headers = Map::new();
    for (k, v) in resp.headers() {
        headers.insert(
            k.as_str().to_string(),
            Value::from(v.to_str().unwrap_or_default().to_string()),
        );
    }
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("reading the response from {url}: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!("HTTP request error. Response code: {status}"));
    }
    let mut m = Map::new();
    m.insert("url".into(), Value::from(url));
    m.insert("body".into(), Value::from(text));
    m.insert("response_headers".into(), Value::Object(headers));
    m.insert("status_code".into(), Value::from(status));
    Ok(Value::Object(m))
}
