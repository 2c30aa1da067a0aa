variable "name" {
  description = "Name of the main queue; the dead-letter queue is `<name>-dlq`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,76}$", var.name))
    error_message = "name: 1-76 letters, digits, hyphens or underscores (SQS allows 80 with the -dlq suffix)."
  }
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout of the main queue (Reckon's lease), seconds."
  type        = number
  default     = 600

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200 && floor(var.visibility_timeout_seconds) == var.visibility_timeout_seconds
    error_message = "visibility_timeout_seconds must be a whole number from 0 to 43200 (12 h)."
  }
}

variable "message_retention_seconds" {
  description = "How long the main queue keeps a message, seconds."
  type        = number
  default     = 345600 # 4 days

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be from 60 to 1209600 (14 days)."
  }
}

variable "max_receive_count" {
  description = "Receives after which SQS moves a message to the DLQ (keep it above Reckon's queue.max_attempts)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "create_redrive_allow_policy" {
  description = "Create the DLQ's redrive-allow policy (byQueue, the main queue only). False only for API stand-ins that lack it."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for both queues."
  type        = map(string)
  default     = {}
}
