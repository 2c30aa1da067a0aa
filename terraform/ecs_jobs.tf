# The cluster, and the jobs task definition: `reckon-job` from the reckon-job ECR
# repository (jobs/Dockerfile). The service starts one task of it per sync task with
# ECS RunTask, passing the task as the `RECKON_JOB_SPEC` environment override of the
# `reckon-job` container. The job reads and writes the store and calls GitHub; it needs
# no AWS permissions, so its task role has none.

module "cluster" {
  source = "./modules/ecs_cluster"

  name               = var.name
  container_insights = var.container_insights
  tags               = local.tags
}

module "jobs" {
  source = "./modules/ecs_task"

  family           = local.jobs_family
  container_name   = local.jobs_container
  image            = "${aws_ecr_repository.this["jobs"].repository_url}:${var.image_tag}"
  entrypoint       = ["/usr/local/bin/reckon-job"]
  cpu              = var.jobs_cpu
  memory           = var.jobs_memory
  cpu_architecture = var.cpu_architecture

  environment = merge(var.extra_environment, local.store_environment)
  secrets     = local.jobs_secrets

  log_group_name      = "/ecs/${local.jobs_family}"
  log_retention_days  = var.log_retention_days
  ecr_repository_arns = [aws_ecr_repository.this["jobs"].arn]
  tags                = local.tags
}
