# EventBridge Scheduler fires the reconciles: one schedule per org sends
# {"task":"reconcile","org":"<org>","scheduled_at":"<time>"} to the task queue, so no
# replica of the service runs a scheduler (RECKON_RECONCILE_ENABLED=false).
module "schedule" {
  source = "./modules/schedule"

  name                         = var.name
  orgs                         = var.github_orgs
  schedule_expression          = var.reconcile_schedule_expression
  schedule_expression_timezone = var.reconcile_schedule_timezone
  enabled                      = var.reconcile_schedule_enabled
  queue_arn                    = module.queue.queue_arn
  tags                         = local.tags
}
