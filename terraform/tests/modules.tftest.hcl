# The shared modules on their own (the same modules terraform/moto applies to moto),
# on a mocked aws provider.

mock_provider "aws" {
  source = "./tests"
}

run "queue_is_encrypted_with_a_redrive_safety_net" {
  module {
    source = "./modules/queue"
  }

  variables {
    name = "reckon-tasks"
  }

  override_resource {
    target = aws_sqs_queue.dlq
    values = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:reckon-tasks-dlq"
      id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks-dlq"
    }
  }

  assert {
    condition     = aws_sqs_queue.main.sqs_managed_sse_enabled && aws_sqs_queue.dlq.sqs_managed_sse_enabled
    error_message = "Both queues must be encrypted at rest (SSE-SQS)."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.main.redrive_policy) == { deadLetterTargetArn = "arn:aws:sqs:eu-west-1:123456789012:reckon-tasks-dlq", maxReceiveCount = 10 }
    error_message = "The main queue must redrive to the DLQ after 10 receives by default."
  }
  assert {
    condition     = aws_sqs_queue.main.visibility_timeout_seconds == 600 && aws_sqs_queue.dlq.message_retention_seconds == 1209600
    error_message = "Visibility timeout 600 s; the DLQ keeps messages 14 days."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_allow_policy.dlq[0].redrive_allow_policy) == { redrivePermission = "byQueue", sourceQueueArns = ["arn:aws:sqs:eu-west-1:123456789012:reckon-tasks"] }
    error_message = "Only the main queue may use the DLQ."
  }
  assert {
    condition     = aws_sqs_queue_redrive_allow_policy.dlq[0].queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks-dlq"
    error_message = "The redrive-allow policy belongs to the DLQ."
  }
}

run "queue_without_redrive_allow_policy_for_moto" {
  command = plan

  module {
    source = "./modules/queue"
  }

  variables {
    name                        = "reckon-tasks"
    max_receive_count           = 3
    create_redrive_allow_policy = false
  }

  assert {
    condition     = length(aws_sqs_queue_redrive_allow_policy.dlq) == 0
    error_message = "create_redrive_allow_policy = false leaves the policy out."
  }
}

run "queue_max_receive_count_is_validated" {
  command = plan

  module {
    source = "./modules/queue"
  }

  variables {
    name              = "reckon-tasks"
    max_receive_count = 0
  }

  expect_failures = [var.max_receive_count]
}

run "schedule_role_may_only_send_to_the_queue" {
  module {
    source = "./modules/schedule"
  }

  variables {
    name      = "reckon"
    orgs      = ["acme"]
    queue_arn = "arn:aws:sqs:eu-west-1:123456789012:reckon-tasks"
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.scheduler.policy).Statement == [{
      Sid = "SendReconcileTasks", Effect = "Allow", Action = ["sqs:SendMessage"], Resource = ["arn:aws:sqs:eu-west-1:123456789012:reckon-tasks"]
    }]
    error_message = "The scheduler role must have only sqs:SendMessage on the queue."
  }
  assert {
    condition     = jsondecode(aws_iam_role.scheduler.assume_role_policy).Statement[0].Principal == { Service = "scheduler.amazonaws.com" } && jsondecode(aws_iam_role.scheduler.assume_role_policy).Statement[0].Condition == { StringEquals = { "aws:SourceAccount" = "123456789012" } }
    error_message = "Only EventBridge Scheduler of this account may assume the role."
  }
  assert {
    condition = (
      aws_scheduler_schedule.reconcile["acme"].schedule_expression == "cron(7 * * * ? *)"
      && aws_scheduler_schedule.reconcile["acme"].target[0].arn == "arn:aws:sqs:eu-west-1:123456789012:reckon-tasks"
      && aws_scheduler_schedule.reconcile["acme"].target[0].input == "{\"org\":\"acme\",\"scheduled_at\":\"<aws.scheduler.scheduled-time>\",\"task\":\"reconcile\"}"
    )
    error_message = "The acme schedule fires hourly at :07 and sends Reckon's reconcile message to the queue."
  }
}

run "dashboard_bucket_is_private_versioned_and_encrypted" {
  module {
    source = "./modules/dashboard_bucket"
  }

  variables {
    bucket_name                 = "reckon-dashboard-123456789012"
    cloudfront_distribution_arn = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "All four public access blocks must be on."
  }
  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be enabled."
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "Objects must be encrypted by default."
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled."
  }
  assert {
    condition = jsondecode(aws_s3_bucket_policy.this.policy).Statement[1] == {
      Sid       = "CloudFrontReadsThroughOAC"
      Effect    = "Allow"
      Principal = { Service = "cloudfront.amazonaws.com" }
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3:::reckon-dashboard-123456789012/*"
      Condition = { StringEquals = { "AWS:SourceArn" = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE" } }
    }
    error_message = "Only the one CloudFront distribution may read, through OAC."
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.this.policy).Statement[0].Effect == "Deny" && jsondecode(aws_s3_bucket_policy.this.policy).Statement[0].Condition == { Bool = { "aws:SecureTransport" = "false" } }
    error_message = "Plain-HTTP requests must be denied."
  }
}

run "task_secrets_must_be_secret_arns" {
  command = plan

  module {
    source = "./modules/ecs_task"
  }

  variables {
    family         = "reckon-job"
    container_name = "reckon-job"
    image          = "reckon-job:test"
    log_group_name = "/ecs/reckon-job"
    secrets        = { RECKON_GITHUB_TOKEN = "ghp_not_an_arn" }
  }

  expect_failures = [var.secrets]
}

run "task_log_retention_is_validated" {
  command = plan

  module {
    source = "./modules/ecs_task"
  }

  variables {
    family             = "reckon-job"
    container_name     = "reckon-job"
    image              = "reckon-job:test"
    log_group_name     = "/ecs/reckon-job"
    log_retention_days = 0
  }

  expect_failures = [var.log_retention_days]
}
