//! AWS clients built once per cold start from the standard SDK settings
//! (`AWS_REGION`, `AWS_ENDPOINT_URL` — a local emulator in development).

pub mod relay;
pub mod sqs_batch;
pub mod storage;

use tokio::sync::OnceCell;

/// The SDK config from the standard environment (region, endpoint, credentials).
pub async fn sdk_config() -> aws_config::SdkConfig {
    crate::tls::aws_sdk_config().await
}

/// The process's SDK config, loaded once, on first use.
pub async fn shared_sdk_config() -> &'static aws_config::SdkConfig {
    static CONFIG: OnceCell<aws_config::SdkConfig> = OnceCell::const_new();
    CONFIG.get_or_init(sdk_config).await
}

/// An SDK client that can be made from the SDK config.
pub trait AwsClient: Sized {
    /// The client for `config`.
    fn from_sdk(config: &aws_config::SdkConfig) -> Self;
}

impl AwsClient for aws_sdk_s3::Client {
    fn from_sdk(config: &aws_config::SdkConfig) -> Self {
        s3(config)
    }
}

impl AwsClient for aws_sdk_sqs::Client {
    fn from_sdk(config: &aws_config::SdkConfig) -> Self {
        sqs(config)
    }
}

#[cfg(feature = "ses")]
impl AwsClient for aws_sdk_sesv2::Client {
    fn from_sdk(config: &aws_config::SdkConfig) -> Self {
        aws_sdk_sesv2::Client::new(config)
    }
}

/// A client made on first use. Loading the SDK config (credentials, HTTPS client
/// with the platform's root certificates) takes ≈ 4 ms, which HTTP functions would
/// otherwise pay at every cold start even when the route never calls AWS.
#[derive(Clone)]
pub struct LazyClient<T>(OnceCell<T>);

impl<T: AwsClient> LazyClient<T> {
    /// Made from the process's SDK config when first needed.
    pub fn on_first_use() -> Self {
        Self(OnceCell::new())
    }

    /// Already made (tests pass clients pointed at the emulator).
    pub fn ready(client: T) -> Self {
        Self(OnceCell::new_with(Some(client)))
    }

    /// The client, made now if this is the first use.
    pub async fn get(&self) -> &T {
        self.0
            .get_or_init(|| async { T::from_sdk(shared_sdk_config().await) })
            .await
    }
}

/// An S3 client (path-style addressing).
pub fn s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    // Path-style addressing works with every endpoint, real or emulated.
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// An SQS client.
pub fn sqs(config: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}
