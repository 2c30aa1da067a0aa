variable "name" {
  description = "Cluster name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.name))
    error_message = "name: 1-255 letters, digits, hyphens or underscores."
  }
}

variable "container_insights" {
  description = "Enable CloudWatch Container Insights (metrics per task; billed as custom metrics)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for the cluster."
  type        = map(string)
  default     = {}
}
