//! An outbound HTTPS client made on first use. Building a reqwest client loads the
//! platform's root certificates (≈ 3 ms here: the bundle and every file of the cert
//! directory), which a function should not pay at cold start for routes that never
//! call out (listing campaigns does not talk to Meta; reading a subscription does not
//! talk to Razorpay).

use std::sync::OnceLock;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct LazyHttp {
    client: OnceLock<reqwest::Client>,
    timeout: Duration,
}

impl LazyHttp {
    /// A client whose every request gives up after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            client: OnceLock::new(),
            timeout,
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            reqwest::Client::builder()
                .timeout(self.timeout)
                .build()
                .expect("an HTTP client with the platform's TLS settings")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_made_once_when_first_asked_for_and_then_reused() {
        let http = LazyHttp::with_timeout(Duration::from_secs(1));
        assert!(http.client.get().is_none(), "nothing is built up front");
        let first: *const reqwest::Client = http.client();
        assert!(std::ptr::eq(first, http.client()));
    }
}
