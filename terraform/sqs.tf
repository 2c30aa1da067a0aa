# The sync-task queue and its dead-letter queue (modules/queue, shared with moto/).
module "queue" {
  source = "./modules/queue"

  name                       = "${var.name}-tasks"
  visibility_timeout_seconds = var.queue_visibility_timeout_seconds
  message_retention_seconds  = var.queue_message_retention_seconds
  max_receive_count          = var.queue_max_receive_count
  tags                       = local.tags
}
