# The service: `reckon serve` from the reckon ECR repository (the root Dockerfile), on
# Fargate in the private subnets behind the ALB. It receives webhooks, serves the API,
# and is the dispatcher: its worker takes tasks from SQS and runs each as an ECS task of
# the jobs task definition (see iam.tf for what that lets it do).

locals {
  dashboard_origin = var.dashboard_domain_name != null ? "https://${var.dashboard_domain_name}" : "https://${aws_cloudfront_distribution.dashboard.domain_name}"

  service_environment = merge(var.extra_environment, local.store_environment, {
    RECKON_LISTEN                    = "0.0.0.0:8080"
    RECKON_PUBLIC_URL                = local.public_url
    RECKON_GITHUB_ORGS               = join(",", var.github_orgs)
    RECKON_QUEUE_BACKEND             = "sqs"
    RECKON_SQS_QUEUE_URL             = module.queue.queue_url
    RECKON_SQS_DEAD_LETTER_QUEUE_URL = module.queue.dlq_url
    RECKON_WORKER_LAUNCHER           = "ecs"
    RECKON_ECS_CLUSTER               = module.cluster.arn
    RECKON_ECS_TASK_DEFINITION       = module.jobs.family # the latest revision at each RunTask
    RECKON_ECS_CONTAINER             = module.jobs.container_name
    RECKON_ECS_SUBNETS               = join(",", var.private_subnet_ids)
    RECKON_ECS_SECURITY_GROUPS       = aws_security_group.jobs.id
    RECKON_ECS_ASSIGN_PUBLIC_IP      = "false"
    RECKON_RECONCILE_ENABLED         = "false" # EventBridge Scheduler fires the reconciles
    RECKON_DASHBOARD_ENABLED         = "false" # the dashboard is on CloudFront
    RECKON_API_CORS_ORIGINS          = local.dashboard_origin
  })
}

module "service" {
  source = "./modules/ecs_task"

  family           = local.service_family
  container_name   = local.service_container
  image            = "${aws_ecr_repository.this["service"].repository_url}:${var.image_tag}"
  command          = ["serve"]
  port             = 8080
  cpu              = var.service_cpu
  memory           = var.service_memory
  cpu_architecture = var.cpu_architecture

  environment = local.service_environment
  secrets     = local.service_secrets

  log_group_name      = "/ecs/${local.service_family}"
  log_retention_days  = var.log_retention_days
  ecr_repository_arns = [aws_ecr_repository.this["service"].arn]
  tags                = local.tags
}

resource "aws_ecs_service" "service" {
  name             = var.name
  cluster          = module.cluster.arn
  task_definition  = module.service.task_definition_arn
  desired_count    = var.service_desired_count
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.service.arn
    container_name   = local.service_container
    container_port   = 8080
  }

  health_check_grace_period_seconds  = 60
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  enable_execute_command = false
  propagate_tags         = "SERVICE"
  tags                   = local.tags

  # The target group must belong to a listener before a service can use it, and the
  # tasks need the dispatcher's permissions from their first receive.
  depends_on = [aws_lb_listener.https, aws_iam_role_policy.dispatcher]
}
