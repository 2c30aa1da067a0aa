variable "family" {
  description = "Task definition family; the roles are `<family>-execution` and `<family>-task`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,54}$", var.family))
    error_message = "family: 1-54 letters, digits, hyphens or underscores (IAM role names are at most 64 with the suffix)."
  }
}

variable "container_name" {
  description = "Name of the task's one container."
  type        = string
}

variable "image" {
  description = "Container image URI."
  type        = string
}

variable "entrypoint" {
  description = "Overrides the image's ENTRYPOINT (null: the image's own)."
  type        = list(string)
  default     = null
}

variable "command" {
  description = "Overrides the image's CMD (null: the image's own)."
  type        = list(string)
  default     = null
}

variable "port" {
  description = "Container port to expose (null: none)."
  type        = number
  default     = null
}

variable "environment" {
  description = "Plain environment variables. Never put secrets here: use `secrets`."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Environment variables filled from Secrets Manager at start: name => secret ARN (valueFrom)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for arn in values(var.secrets) : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", arn))])
    error_message = "Each secret must be a Secrets Manager secret ARN."
  }
}

variable "cpu" {
  description = "Task CPU units (256 = 0.25 vCPU)."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Task memory, MiB."
  type        = number
  default     = 512
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64 (the image must be built for it)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "readonly_root_filesystem" {
  description = <<-EOT
    Mount the container's root filesystem read-only. Reckon's images run as a non-root
    user, and Fargate creates `writable_paths` volumes owned by root (mode 0755) unless the
    image declares the path as a VOLUME, so turn this on only with such an image.
  EOT
  type        = bool
  default     = false
}

variable "writable_paths" {
  description = "Paths given writable task storage (bind mounts), for a read-only root filesystem."
  type        = list(string)
  default     = []
}

variable "log_group_name" {
  description = "CloudWatch log group for the container's output (created here)."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "ecr_repository_arns" {
  description = "ECR repositories the execution role may pull from (empty: none, e.g. a public image)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for everything here."
  type        = map(string)
  default     = {}
}
