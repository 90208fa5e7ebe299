//! SMS by an HTTP POST to the configured gateway: the body is
//! `{"to": "+41…", "text": "…"}` (JSON, so no value can break out of its
//! string), with `Authorization: Bearer TOKEN` when a token file is set;
//! any 2xx answer means delivered. `https://` gateways are verified
//! against the system's CA certificates (rustls); redirects are not
//! followed.

use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use zeroize::Zeroizing;

use super::error::{DeliveryError, SetupError, chain};

/// The gateway: its URL, its token, a client.
pub(super) struct Gateway {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: Uri,
    token: Option<Zeroizing<String>>,
    /// `scheme://host[:port]`, for messages: a path or query may hold a
    /// key, so it is never shown.
    shown: String,
}

impl Gateway {
    /// The gateway at `url` (`http://` or `https://`), with `token` if
    /// the gateway needs one.
    pub(super) fn new(url: &str, token: Option<Zeroizing<String>>) -> Result<Self, SetupError> {
        let url: Uri = url
            .parse()
            .map_err(|_| SetupError::BadGatewayUrl("not a URL"))?;
        let https = match url.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(SetupError::BadGatewayUrl(
                    "the scheme must be http or https",
                ));
            }
        };
        let Some(authority) = url.authority() else {
            return Err(SetupError::BadGatewayUrl("no host"));
        };
        if authority.as_str().contains('@') {
            return Err(SetupError::BadGatewayUrl(
                "credentials in the URL: put the token in notifications.sms_gateway_token_file",
            ));
        }
        let shown = format!("{}://{}", if https { "https" } else { "http" }, authority);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let connector = if https {
            HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(provider)
                .map_err(|e| SetupError::Tls {
                    what: "the SMS gateway",
                    reason: chain(&e),
                })?
                .https_only()
                .enable_http1()
                .build()
        } else {
            // A plain http:// gateway never reaches the TLS layer: it is
            // given no roots at all.
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| SetupError::Tls {
                    what: "the SMS gateway",
                    reason: chain(&e),
                })?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            HttpsConnectorBuilder::new()
                .with_tls_config(config)
                .https_or_http()
                .enable_http1()
                .build()
        };
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self {
            client,
            url,
            token,
            shown,
        })
    }

    /// The gateway's scheme and host.
    pub(super) fn shown(&self) -> &str {
        &self.shown
    }

    /// Posts `text` for `to`.
    pub(super) async fn send(&self, to: &str, text: &str) -> Result<(), DeliveryError> {
        let body = Zeroizing::new(serde_json::json!({ "to": to, "text": text }).to_string());
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(token) = &self.token {
            let bearer = Zeroizing::new(format!("Bearer {}", token.as_str()));
            let mut value = HeaderValue::from_str(&bearer).map_err(|_| {
                DeliveryError::Compose("the gateway token cannot be sent in a header".into())
            })?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let request = request
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .map_err(|e| DeliveryError::Compose(chain(&e)))?;
        let response =
            self.client
                .request(request)
                .await
                .map_err(|e| DeliveryError::GatewayFailed {
                    gateway: self.shown.clone(),
                    reason: chain(&e),
                })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // The answer's body is never read into a message: a gateway may
        // echo the text, and the text may hold a code.
        Err(DeliveryError::GatewayStatus {
            gateway: self.shown.clone(),
            status: status.to_string(),
        })
    }
}
