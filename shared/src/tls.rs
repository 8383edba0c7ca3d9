//! The one TLS crypto provider every client in a function uses: rustls on `ring`, for
//! Postgres (`db::tls`), outbound HTTPS (`reqwest`, which is built without a provider of
//! its own) and the AWS SDK (whose HTTPS client is made here rather than by its
//! `default-https-client` feature, which would link aws-lc-rs as a second stack).

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The platform's crypto provider.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring())
}

fn ring() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Makes [`provider`] the process default, which `reqwest` clients read when they are
/// built. Safe to call any number of times, from any thread.
pub fn install_process_default() {
    // Fails only when a provider is already installed, which is the wanted outcome.
    let _ = CryptoProvider::install_default(ring());
}

/// The SDK config from the environment Lambda gives every function: `AWS_REGION`,
/// credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`,
/// and `AWS_ENDPOINT_URL` when set (the local emulator), with an HTTPS client on
/// [`provider`]'s ring. Built directly rather than by `aws_config::load_defaults`, whose
/// provider chains (profiles, SSO, STS, IMDS) a function never uses but would link
/// (with the HS256 provider and the log filter, campaigns 8.93 → 7.21 MB; results.md,
/// "Dependency steps"); the SDK fills in its own defaults for
/// retries, timeouts, sleeping and the identity cache.
#[cfg(any(feature = "aws", feature = "secrets"))]
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_smithy_http_client::tls;
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let mut config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .http_client(https)
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .region(env("AWS_REGION").map(aws_config::Region::new));
    if let Some(url) = env("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(url);
    }
    config.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installing_the_provider_twice_keeps_ring_as_the_process_default() {
        install_process_default();
        install_process_default();
        let installed = CryptoProvider::get_default().expect("a process default");
        let ring = provider();
        assert_eq!(
            installed.cipher_suites.len(),
            ring.cipher_suites.len(),
            "the default is ring's suite list"
        );
    }
}
