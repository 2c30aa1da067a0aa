variable "bucket_name" {
  description = "Bucket name (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !strcontains(var.bucket_name, "..")
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, '.' or '-'."
  }
}

variable "cloudfront_distribution_arn" {
  description = "The CloudFront distribution allowed to read the bucket through OAC (null: none yet)."
  type        = string
  default     = null
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object version is kept."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a non-empty bucket."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the bucket."
  type        = map(string)
  default     = {}
}
