//! A plain HTTP/1.1 JSON POST, for the start route of AWS's local emulator, which the Lambda
//! client cannot call.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why a POST failed.
#[derive(Debug)]
pub(crate) enum PostError {
    /// The endpoint is not an address the runner can call.
    Endpoint(String),
    /// The connection or the exchange failed.
    Transport(String),
}

/// `host:port` and the base path of an `http://` endpoint.
fn parse_endpoint(endpoint: &str) -> Result<(String, String), PostError> {
    let rest = endpoint.strip_prefix("http://").ok_or_else(|| {
        PostError::Endpoint(format!(
            "the emulator endpoint {endpoint:?} is not an http:// address (the emulator serves plain HTTP)"
        ))
    })?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(PostError::Endpoint(format!(
            "the emulator endpoint {endpoint:?} has no host"
        )));
    }
    let has_port = match authority.rfind(':') {
        // An IPv6 literal's colons are inside brackets.
        Some(at) => !authority[at..].contains(']'),
        None => false,
    };
    let authority = if has_port {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.trim_end_matches('/').to_string()))
}

/// POSTs `body` as JSON to `path` under `endpoint` and returns the status and the answer's
/// body, within `timeout`.
pub(crate) async fn post_json(
    endpoint: &str,
    path: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<(u16, Bytes), PostError> {
    let (authority, base) = parse_endpoint(endpoint)?;
    let uri = format!("{base}{path}");
    let exchange = async {
        let stream = TcpStream::connect(&authority)
            .await
            .map_err(|err| format!("cannot connect to {authority}: {err}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|err| format!("HTTP handshake with {authority}: {err}"))?;
        let connection = tokio::spawn(connection);
        let request = Request::post(&uri)
            .header(hyper::header::HOST, &authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|err| format!("the request to {uri} cannot be built: {err}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|err| format!("POST {uri} to {authority}: {err}"))?;
        let status = response.status().as_u16();
        let answer = response
            .into_body()
            .collect()
            .await
            .map_err(|err| format!("reading the answer of POST {uri}: {err}"))?
            .to_bytes();
        connection.abort();
        Ok::<_, String>((status, answer))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(message)) => Err(PostError::Transport(message)),
        Err(_) => Err(PostError::Transport(format!(
            "POST {uri} to {authority} took more than {}s",
            timeout.as_secs_f64()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(endpoint: &str) -> (String, String) {
        parse_endpoint(endpoint).unwrap_or_else(|err| panic!("{endpoint}: {err:?}"))
    }

    #[test]
    fn endpoints_give_an_authority_and_a_base_path() {
        assert_eq!(
            parsed("http://127.0.0.1:5000"),
            ("127.0.0.1:5000".to_string(), String::new())
        );
        assert_eq!(
            parsed("http://127.0.0.1:5000/"),
            ("127.0.0.1:5000".to_string(), String::new())
        );
        assert_eq!(
            parsed("http://localhost/emulator/"),
            ("localhost:80".to_string(), "/emulator".to_string())
        );
        assert_eq!(
            parsed("http://[::1]:5000"),
            ("[::1]:5000".to_string(), String::new())
        );
        assert_eq!(
            parsed("http://[::1]"),
            ("[::1]:80".to_string(), String::new())
        );
        assert!(matches!(
            parse_endpoint("https://lambda.us-east-1.amazonaws.com"),
            Err(PostError::Endpoint(_))
        ));
        assert!(matches!(
            parse_endpoint("http:///path"),
            Err(PostError::Endpoint(_))
        ));
    }
}
