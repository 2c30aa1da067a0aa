//! The AWS SDK configuration shared by the SQS queue and the ECS launcher: one rustls +
//! ring HTTP client (no aws-lc, no second TLS stack), the region, and an endpoint
//! override for moto or LocalStack (`aws.endpoint_url` or the SDK's `AWS_ENDPOINT_URL`).

use aws_config::{BehaviorVersion, Region};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use serde::Deserialize;

use crate::config::ConfigError;

/// `[aws]`: where the AWS clients connect. Credentials come from the SDK's default
/// chain (environment, ECS task role, instance profile, SSO), never from this file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// e.g. "eu-west-1"; unset: `AWS_REGION` or the SDK's other sources.
    #[serde(default, deserialize_with = "crate::config::non_empty")]
    pub region: Option<String>,
    /// Sends every AWS request here instead (tests against moto). Unset: the SDK reads
    /// `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_SQS`/`_ECS` itself.
    #[serde(default, deserialize_with = "crate::config::non_empty")]
    pub endpoint_url: Option<String>,
}

impl AwsConfig {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.endpoint_url {
            let ok = url::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
            if !ok {
                return Err(ConfigError::invalid(
                    "aws.endpoint_url",
                    format!("`{url}` is not an http:// or https:// URL"),
                ));
            }
        }
        if let Some(region) = &self.region {
            let ok = !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(ConfigError::invalid(
                    "aws.region",
                    format!("`{region}` is not an AWS region name such as eu-west-1"),
                ));
            }
        }
        Ok(())
    }
}

/// Loads the SDK configuration with Reckon's HTTP client; `loader` lets tests give
/// fixed credentials.
pub async fn sdk_config(config: &AwsConfig) -> aws_config::SdkConfig {
    loader(config).load().await
}

/// The SDK loader with Reckon's HTTP client, region and endpoint applied.
pub fn loader(config: &AwsConfig) -> aws_config::ConfigLoader {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
    if let Some(region) = &config.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &config.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader
}

/// An SDK error as one line: the service's code and message when it sent one, else the
/// transport's chain (a timeout, a refused connection).
pub fn error_line<E, R>(error: &aws_sdk_sqs::error::SdkError<E, R>) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_sdk_sqs::error::ProvideErrorMetadata;
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => crate::telemetry::chain(error),
    }
}
