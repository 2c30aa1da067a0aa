# EventBridge Scheduler: one schedule per GitHub org that sends Reckon's reconcile task
# to the SQS queue. The message body is exactly what Reckon's worker reads:
#   {"org":"acme","scheduled_at":"<aws.scheduler.scheduled-time>","task":"reconcile"}
# Scheduler replaces `<aws.scheduler.scheduled-time>` with the firing's time. jsonencode
# writes `<` and `>` as \u003c and \u003e, which Scheduler would not recognise as its
# placeholder, so they are turned back into the literal characters (still valid JSON).

terraform {
  required_version = ">= 1.7"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

data "aws_caller_identity" "current" {}

locals {
  inputs = {
    for org in var.orgs : org => replace(replace(jsonencode({
      task         = "reconcile"
      org          = org
      scheduled_at = "<aws.scheduler.scheduled-time>"
    }), "\\u003c", "<"), "\\u003e", ">")
  }
}

resource "aws_scheduler_schedule_group" "this" {
  name = var.name
  tags = var.tags
}

resource "aws_iam_role" "scheduler" {
  name = "${var.name}-scheduler"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
      }
    }]
  })
  tags = var.tags
}

# The role may do one thing: put a message on the main queue.
resource "aws_iam_role_policy" "scheduler" {
  name = "send-reconcile-tasks"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "SendReconcileTasks"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = [var.queue_arn]
    }]
  })
}

resource "aws_scheduler_schedule" "reconcile" {
  for_each = toset(var.orgs)

  name        = "reconcile-${each.value}"
  group_name  = aws_scheduler_schedule_group.this.name
  description = "Reckon: reconcile GitHub org ${each.value}"
  state       = var.enabled ? "ENABLED" : "DISABLED"

  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_expression_timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.queue_arn
    role_arn = aws_iam_role.scheduler.arn
    input    = local.inputs[each.value]

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 10
    }
  }
}
