# One Fargate task definition with its own log group, execution role and task role.
# Used twice by the root module: the service (`reckon serve`) and the jobs
# (`reckon-job`, started by the service with ECS RunTask).
#
# - The execution role (what ECS uses to start the task) may pull from the given ECR
#   repositories, read only the given secrets and write only this task's log group.
# - The task role (what the container's code gets) has no permissions here; the caller
#   attaches what the code needs (the service's dispatcher policy; the jobs need none).
# - Secrets reach the container through `secrets` (valueFrom = secret ARN), never as
#   plain environment values, so they are not in the task definition.

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
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  # A valueFrom may name a JSON key or version (`<secret arn>:key:stage:version`);
  # the permission is on the secret itself (the first seven fields of the ARN).
  secret_arns = distinct([for arn in values(var.secrets) : join(":", slice(split(":", arn), 0, 7))])

  volumes = { for i, path in var.writable_paths : "scratch-${i}" => path }

  container = merge(
    {
      name                   = var.container_name
      image                  = var.image
      essential              = true
      memory                 = var.memory # the task's one container may use all of it (moto's RunTask also needs it)
      readonlyRootFilesystem = var.readonly_root_filesystem
      environment            = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
      secrets                = [for k in sort(keys(var.secrets)) : { name = k, valueFrom = var.secrets[k] }]
      mountPoints            = [for name, path in local.volumes : { sourceVolume = name, containerPath = path, readOnly = false }]
      linuxParameters        = { initProcessEnabled = true }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = local.region
          awslogs-stream-prefix = var.container_name
        }
      }
    },
    var.entrypoint == null ? {} : { entryPoint = var.entrypoint },
    var.command == null ? {} : { command = var.command },
    var.port == null ? {} : {
      portMappings = [{ containerPort = var.port, hostPort = var.port, protocol = "tcp" }]
    },
  )
}

resource "aws_cloudwatch_log_group" "this" {
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

locals {
  ecs_tasks_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:*" }
      }
    }]
  })
}

resource "aws_iam_role" "execution" {
  name               = "${var.family}-execution"
  description        = "ECS starts ${var.family} tasks with this role: image pull, its secrets, its log group."
  assume_role_policy = local.ecs_tasks_trust
  tags               = var.tags
}

resource "aws_iam_role" "task" {
  name               = "${var.family}-task"
  description        = "The ${var.family} container's own AWS identity."
  assume_role_policy = local.ecs_tasks_trust
  tags               = var.tags
}

locals {
  execution_statements = concat(
    [{
      Sid      = "WriteOwnLogGroup"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = [aws_cloudwatch_log_group.this.arn, "${aws_cloudwatch_log_group.this.arn}:log-stream:*"]
    }],
    length(local.secret_arns) == 0 ? [] : [{
      Sid      = "ReadOwnSecrets"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = local.secret_arns
    }],
    length(var.ecr_repository_arns) == 0 ? [] : [
      {
        # GetAuthorizationToken has no resource-level permissions.
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = ["*"]
      },
      {
        Sid      = "PullOwnImages"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = var.ecr_repository_arns
      },
    ],
  )
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-${var.family}"
  role   = aws_iam_role.execution.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.execution_statements })
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.container])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # Fargate task storage, writable although the root filesystem is read-only.
  dynamic "volume" {
    for_each = local.volumes
    content {
      name = volume.key
    }
  }

  tags = var.tags

  # Tasks started from this definition need the execution role's permissions at once.
  depends_on = [aws_iam_role_policy.execution]
}
