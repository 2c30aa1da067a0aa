# The sync-task queue and its dead-letter queue.
#
# Reckon dead-letters a task itself after `queue.max_attempts` (it copies the message,
# with its error, into the DLQ and deletes it from the main queue). SQS's own redrive
# (`maxReceiveCount`) stays above that as a safety net for a worker that crashes before
# it can report, so keep `max_receive_count` greater than Reckon's `queue.max_attempts`.
#
# Encryption: SSE-SQS (SQS-managed keys). With a customer-managed KMS key every
# producer (EventBridge Scheduler's role, the service) would also need kms:GenerateDataKey
# and the key policy would have to admit them; SSE-SQS encrypts at rest with no grants.

terraform {
  required_version = ">= 1.7"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-dlq"
  message_retention_seconds = 1209600 # 14 days, the SQS maximum
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "main" {
  name                       = var.name
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds
  receive_wait_time_seconds  = 0 # Reckon sets its own long-poll wait per receive
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

# Only the main queue may use the DLQ as its dead-letter queue. A separate resource
# (not the queue's `redrive_allow_policy` argument) so the two queues do not depend on
# each other; left out where the API does not support it (moto).
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  count     = var.create_redrive_allow_policy ? 1 : 0
  queue_url = aws_sqs_queue.dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.main.arn]
  })
}
