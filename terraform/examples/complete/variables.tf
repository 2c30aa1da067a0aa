variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1 or us-gov-west-1."
  }
}

variable "name" {
  description = "Name of the deployment (prefix of every resource)."
  type        = string
  default     = "reckon"
}

variable "vpc_cidr" {
  description = "CIDR of the VPC; split into two public and two private subnets."
  type        = string
  default     = "10.60.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 22
    error_message = "vpc_cidr must be an IPv4 CIDR of /22 or larger, such as 10.60.0.0/16."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper; egress stops if its AZ fails) instead of one per AZ."
  type        = bool
  default     = true
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name, in var.region."
  type        = string
}

variable "domain_name" {
  description = "Host name of the service, e.g. reckon.example.com."
  type        = string
}

variable "route53_zone_id" {
  description = "Hosted zone to create domain_name in (null: create the record yourself, pointing at alb_dns_name)."
  type        = string
  default     = null
}

variable "image_tag" {
  description = "Tag of the reckon and reckon-job images to run."
  type        = string
}

variable "github_orgs" {
  description = "GitHub organisations to reconcile."
  type        = list(string)
}

variable "alb_deletion_protection" {
  description = "Protect the ALB from deletion."
  type        = bool
  default     = true
}
