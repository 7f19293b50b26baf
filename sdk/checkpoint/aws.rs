//! The durable-execution service over `aws-sdk-lambda`.

use super::{BoxFuture, DurableService, ServiceError, ServiceErrorKind};
use crate::wire::{
    CheckpointDurableExecutionRequest, CheckpointDurableExecutionResponse,
    GetDurableExecutionStateRequest, GetDurableExecutionStateResponse,
};

/// Talks to the service with the AWS SDK client.
pub(crate) struct AwsService {
    #[allow(dead_code)]
    client: aws_sdk_lambda::Client,
}

impl AwsService {
    pub(crate) async fn from_env() -> Self {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self {
            client: aws_sdk_lambda::Client::new(&config),
        }
    }
}

impl DurableService for AwsService {
    fn checkpoint<'a>(
        &'a self,
        _arn: &'a str,
        _request: &'a CheckpointDurableExecutionRequest,
    ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
        Box::pin(async { Err(ServiceError::new(ServiceErrorKind::Other, "Unimplemented", "todo")) })
    }

    fn get_state<'a>(
        &'a self,
        _arn: &'a str,
        _request: &'a GetDurableExecutionStateRequest,
    ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
        Box::pin(async { Err(ServiceError::new(ServiceErrorKind::Other, "Unimplemented", "todo")) })
    }
}
