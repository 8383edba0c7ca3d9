//! The fetcher: one GET that connects only to addresses `target::resolve` judged (each
//! hop gets a client pinned to them, so no second DNS lookup can change where it goes),
//! ignores proxies from the environment, follows at most `MAX_REDIRECTS` redirects (each
//! judged again, never https → http), gives up on a connection after 3 s and on the
//! whole fetch after 10 s, and reads at most `limit` bytes of the body. It asks for no
//! compression, so the cap counts the bytes as the site sent them and as we parse them.

use std::time::Duration;

use url::Url;

use super::target::{AllowHosts, Refusal, Target, resolve, target};

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// What a fetch got: the final URL (after redirects), its status, type and body.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// Where the body came from, after redirects.
    pub url: Url,
    /// The final response's status.
    pub status: u16,
    /// Its `content-type` header.
    pub content_type: Option<String>,
    /// Its body, at most the limit asked for.
    pub body: Vec<u8>,
}

impl Fetched {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A 2xx status.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Fetches user-given URLs safely: every address (redirects included) is checked before
/// connecting, and the connection goes to the checked address only.
#[derive(Clone, Debug)]
pub struct Fetcher {
    allow: AllowHosts,
    user_agent: String,
    connect: Duration,
    total: Duration,
}

impl Fetcher {
    /// Connect 3 s, whole fetch 10 s.
    pub fn new(allow: AllowHosts, user_agent: &str) -> Self {
        Self {
            allow,
            user_agent: user_agent.to_owned(),
            connect: Duration::from_secs(3),
            total: Duration::from_secs(10),
        }
    }

    /// The same fetcher with other connect and whole-fetch timeouts.
    pub fn with_timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.connect = connect;
        self.total = total;
        self
    }

    /// The hosts exempt from the address rules.
    pub fn allow_hosts(&self) -> &AllowHosts {
        &self.allow
    }

    /// GETs `url`, following checked redirects, reading at most `limit` body bytes.
    pub async fn get(&self, url: &Url, limit: usize) -> Result<Fetched, Refusal> {
        let host = url.host_str().unwrap_or_default().to_owned();
        tokio::time::timeout(self.total, self.follow(url.clone(), limit))
            .await
            .map_err(|_| Refusal::Timeout(host, self.total.as_secs()))?
    }

    async fn follow(&self, mut url: Url, limit: usize) -> Result<Fetched, Refusal> {
        for _ in 0..=MAX_REDIRECTS {
            let t = target(&url, &self.allow)?;
            let addrs = resolve(&t).await?;
            let res = self
                .client(&t, &addrs)?
                .get(url.clone())
                .send()
                .await
                .map_err(|e| network(&t, &e))?;
            if res.status().is_redirection() {
                let location = res
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok());
                url = next_hop(&url, location)?;
                continue;
            }
            return read(url, res, limit, &t).await;
        }
        Err(Refusal::TooManyRedirects(MAX_REDIRECTS))
    }

    fn client(
        &self,
        t: &Target,
        addrs: &[std::net::SocketAddr],
    ) -> Result<reqwest::Client, Refusal> {
        crate::tls::install_process_default();
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect)
            .user_agent(self.user_agent.clone())
            .resolve_to_addrs(&t.host, addrs)
            .build()
            .map_err(|e| network(t, &e))
    }
}

fn network(t: &Target, e: &reqwest::Error) -> Refusal {
    let why = if e.is_connect() {
        "the connection failed".to_owned()
    } else if e.is_timeout() {
        "it did not answer in time".to_owned()
    } else {
        e.to_string()
    };
    Refusal::Network(t.host.clone(), why)
}

/// The redirect's target, refused when it is missing, invalid or a downgrade to http.
pub fn next_hop(from: &Url, location: Option<&str>) -> Result<Url, Refusal> {
    let location = location.ok_or(Refusal::BadRedirect)?;
    let next = from.join(location).map_err(|_| Refusal::BadRedirect)?;
    if from.scheme() == "https" && next.scheme() == "http" {
        return Err(Refusal::Downgrade(next.to_string()));
    }
    Ok(next)
}

async fn read(
    url: Url,
    mut res: reqwest::Response,
    limit: usize,
    t: &Target,
) -> Result<Fetched, Refusal> {
    let too_large = || Refusal::TooLarge {
        what: url.to_string(),
        limit,
    };
    if res.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase());
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| network(t, &e))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        url,
        status,
        content_type,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_never_goes_from_https_to_http() {
        let from = Url::parse("https://shop.example/a").unwrap();
        assert!(matches!(
            next_hop(&from, Some("http://shop.example/b")),
            Err(Refusal::Downgrade(_))
        ));
        assert_eq!(
            next_hop(&from, Some("/b")).unwrap().as_str(),
            "https://shop.example/b"
        );
        assert!(matches!(next_hop(&from, None), Err(Refusal::BadRedirect)));
        let plain = Url::parse("http://shop.example/").unwrap();
        assert!(next_hop(&plain, Some("https://shop.example/")).is_ok());
    }
}
