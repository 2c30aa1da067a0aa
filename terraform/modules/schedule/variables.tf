variable "name" {
  description = "Name of the schedule group; the scheduler role is `<name>-scheduler`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,54}$", var.name))
    error_message = "name: 1-54 letters, digits, '.', '-' or '_'."
  }
}

variable "orgs" {
  description = "GitHub organisation logins; one schedule each."
  type        = list(string)

  validation {
    condition = alltrue([
      for org in var.orgs : can(regex("^[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?$", org)) && !strcontains(org, "--")
    ])
    error_message = "Each org must be a GitHub login: 1-39 letters, digits or single hyphens, not starting or ending with a hyphen."
  }
}

variable "schedule_expression" {
  description = "When to reconcile: an EventBridge Scheduler cron() or rate() expression."
  type        = string
  default     = "cron(7 * * * ? *)"

  validation {
    condition     = can(regex("^(cron\\([^ ()]+( [^ ()]+){5}\\)|rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\))$", var.schedule_expression))
    error_message = "schedule_expression must be cron(<6 fields>) or rate(<n> minute(s)|hour(s)|day(s))."
  }
}

variable "schedule_expression_timezone" {
  description = "Time zone of a cron() schedule (IANA name)."
  type        = string
  default     = "UTC"
}

variable "enabled" {
  description = "Whether the schedules fire."
  type        = bool
  default     = true
}

variable "queue_arn" {
  description = "ARN of the SQS queue the schedules send to (the only resource the role may write)."
  type        = string
}

variable "tags" {
  description = "Tags for the group and role."
  type        = map(string)
  default     = {}
}
