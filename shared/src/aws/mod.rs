//! AWS clients built once per cold start from the standard SDK settings
//! (`AWS_REGION`, `AWS_ENDPOINT_URL` — a local emulator in development).

pub mod relay;
pub mod sqs_batch;
pub mod storage;

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

pub fn s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    // Path-style addressing works with every endpoint, real or emulated.
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

pub fn sqs(config: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}
