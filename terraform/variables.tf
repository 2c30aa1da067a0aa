# ---------------------------------------------------------------------------------------
# Naming
# ---------------------------------------------------------------------------------------

variable "name" {
  description = "Name of this deployment; prefixes every resource (cluster, queues, roles, log groups, OpenSearch domain). IAM role names are account-wide, so use a different name for a second deployment in another region of the same account."
  type        = string
  default     = "reckon"

  validation {
    # The OpenSearch domain (3-28) and ALB target group (32 with "-serve") names are the tightest.
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be 3-20 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------
# Network (bring your own VPC; examples/complete builds one)
# ---------------------------------------------------------------------------------------

variable "vpc_id" {
  description = "VPC to deploy into."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8}([0-9a-f]{9})?$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets for the ALB, in at least two Availability Zones."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2 && alltrue([for s in var.public_subnet_ids : can(regex("^subnet-[0-9a-f]{8}([0-9a-f]{9})?$", s))])
    error_message = "public_subnet_ids needs at least two subnet IDs (subnet-...) in different AZs; an ALB requires two."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (with a route to the internet through NAT, for GitHub's API) for the tasks and OpenSearch."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 1 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8}([0-9a-f]{9})?$", s))])
    error_message = "private_subnet_ids needs at least one subnet ID (subnet-...)."
  }
}

variable "alb_ingress_cidrs" {
  description = "IPv4 CIDRs allowed to reach the ALB on 80/443. GitHub's hook sources are listed at https://api.github.com/meta (`hooks`), but people also use the API, so the default is everyone."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.alb_ingress_cidrs) > 0 && alltrue([for c in var.alb_ingress_cidrs : can(cidrnetmask(c))])
    error_message = "alb_ingress_cidrs must be IPv4 CIDR blocks such as 192.0.2.0/24."
  }
}

variable "api_allowed_cidrs" {
  description = "Source CIDRs (at most 5) for which the ALB forwards everything, the stats API, delivery log, drift and metrics included. Empty (the default): the ALB forwards only /hooks/* and /healthz and answers 404 to the rest, because Reckon's read API has no authentication yet. [\"0.0.0.0/0\"] opens it to everyone (and makes CloudFront's /api/* routing work, whose requests come from CloudFront's addresses)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.api_allowed_cidrs) <= 5 && alltrue([for c in var.api_allowed_cidrs : can(cidrnetmask(c))])
    error_message = "api_allowed_cidrs takes at most 5 IPv4 CIDR blocks such as 192.0.2.0/24."
  }
}

# ---------------------------------------------------------------------------------------
# Public endpoint (ALB + HTTPS)
# ---------------------------------------------------------------------------------------

variable "certificate_arn" {
  description = "ACM certificate (in this region) for the ALB's HTTPS listener; it must cover `domain_name`."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "domain_name" {
  description = "Public host name of the service (e.g. reckon.example.com), pointed at the ALB. Null: the ALB's DNS name (browsers and GitHub will then reject the certificate unless it covers that name)."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be a lowercase host name such as reckon.example.com (no scheme, no path)."
  }
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone in which to create `domain_name` as an alias of the ALB. Null: manage DNS yourself."
  type        = string
  default     = null

  validation {
    condition     = var.route53_zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", var.route53_zone_id))
    error_message = "route53_zone_id must be a hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "alb_ssl_policy" {
  description = "TLS policy of the HTTPS listener (TLS 1.2 and 1.3 by default)."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = can(regex("^ELBSecurityPolicy-(TLS13-1-[23]-|TLS-1-2-|FS-1-2-)", var.alb_ssl_policy))
    error_message = "alb_ssl_policy must be a policy with TLS 1.2 as the minimum (ELBSecurityPolicy-TLS13-1-2-*, -TLS13-1-3-*, -TLS-1-2-* or -FS-1-2-*)."
  }
}

variable "alb_deletion_protection" {
  description = "Protect the ALB from deletion (turn off before `terraform destroy`)."
  type        = bool
  default     = true
}

variable "alb_access_logs_bucket" {
  description = "S3 bucket for ALB access logs (its policy must let the ELB service write). Null: no access logs."
  type        = string
  default     = null
}

variable "alb_web_acl_arn" {
  description = "WAFv2 web ACL (REGIONAL) to associate with the ALB. Null: none."
  type        = string
  default     = null

  validation {
    condition     = var.alb_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/.+$", var.alb_web_acl_arn))
    error_message = "alb_web_acl_arn must be a regional WAFv2 web ACL ARN."
  }
}

# ---------------------------------------------------------------------------------------
# Images and tasks
# ---------------------------------------------------------------------------------------

variable "service_repository_name" {
  description = "ECR repository of the service image (the repo's root Dockerfile: `reckon` and `reckon-job`)."
  type        = string
  default     = "reckon"

  validation {
    condition     = can(regex("^[a-z0-9]+([._/-][a-z0-9]+)*$", var.service_repository_name)) && length(var.service_repository_name) <= 256
    error_message = "service_repository_name must be a valid ECR repository name (lowercase)."
  }
}

variable "jobs_repository_name" {
  description = "ECR repository of the jobs image (jobs/Dockerfile: `reckon-job` alone)."
  type        = string
  default     = "reckon-job"

  validation {
    condition     = can(regex("^[a-z0-9]+([._/-][a-z0-9]+)*$", var.jobs_repository_name)) && length(var.jobs_repository_name) <= 256
    error_message = "jobs_repository_name must be a valid ECR repository name (lowercase)."
  }
}

variable "image_tag" {
  description = "Tag of both images to run (e.g. the git commit). Tags are immutable in ECR, so a new release is a new tag."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a Docker tag: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'."
  }
}

variable "ecr_keep_images" {
  description = "Tagged images each ECR repository keeps (older ones expire; untagged ones expire after a day)."
  type        = number
  default     = 30

  validation {
    condition     = var.ecr_keep_images >= 1 && var.ecr_keep_images <= 1000
    error_message = "ecr_keep_images must be from 1 to 1000."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of both tasks: X86_64 or ARM64 (build the images for it)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "service_desired_count" {
  description = "Replicas of `reckon serve` (they share the store and the queue)."
  type        = number
  default     = 1

  validation {
    condition     = var.service_desired_count >= 0 && var.service_desired_count <= 20 && floor(var.service_desired_count) == var.service_desired_count
    error_message = "service_desired_count must be a whole number from 0 to 20."
  }
}

variable "service_cpu" {
  description = "CPU units of a service task (256 = 0.25 vCPU)."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.service_cpu)
    error_message = "service_cpu must be a Fargate size: 256, 512, 1024, 2048 or 4096."
  }
}

variable "service_memory" {
  description = "Memory of a service task, MiB (must suit service_cpu on Fargate)."
  type        = number
  default     = 512

  validation {
    condition     = var.service_memory >= 512 && var.service_memory <= 30720 && var.service_memory % 512 == 0
    error_message = "service_memory must be a multiple of 512 MiB from 512 to 30720."
  }
}

variable "jobs_cpu" {
  description = "CPU units of a job task."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.jobs_cpu)
    error_message = "jobs_cpu must be a Fargate size: 256, 512, 1024, 2048 or 4096."
  }
}

variable "jobs_memory" {
  description = "Memory of a job task, MiB."
  type        = number
  default     = 512

  validation {
    condition     = var.jobs_memory >= 512 && var.jobs_memory <= 30720 && var.jobs_memory % 512 == 0
    error_message = "jobs_memory must be a multiple of 512 MiB from 512 to 30720."
  }
}

variable "container_insights" {
  description = "Enable CloudWatch Container Insights on the cluster."
  type        = bool
  default     = true
}

variable "extra_environment" {
  description = "More RECKON_* settings for both containers (e.g. RECKON_GITHUB_API_URL for GHES, RECKON_LOG_LEVEL). Not for secrets, and not for the settings this module manages."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_environment) : can(regex("^RECKON_[A-Z0-9_]+$", k))])
    error_message = "extra_environment keys must be RECKON_* variable names (uppercase)."
  }

  validation {
    condition = length(setintersection(keys(var.extra_environment), [
      "RECKON_LISTEN", "RECKON_PUBLIC_URL", "RECKON_STORE", "RECKON_ELASTICSEARCH_URL",
      "RECKON_ELASTICSEARCH_USERNAME", "RECKON_ELASTICSEARCH_PASSWORD", "RECKON_GITHUB_WEBHOOK_SECRET",
      "RECKON_GITHUB_TOKEN", "RECKON_GITHUB_ORGS", "RECKON_QUEUE_BACKEND", "RECKON_SQS_QUEUE_URL",
      "RECKON_SQS_DEAD_LETTER_QUEUE_URL", "RECKON_WORKER_LAUNCHER", "RECKON_ECS_CLUSTER",
      "RECKON_ECS_TASK_DEFINITION", "RECKON_ECS_CONTAINER", "RECKON_ECS_SUBNETS",
      "RECKON_ECS_SECURITY_GROUPS", "RECKON_ECS_ASSIGN_PUBLIC_IP", "RECKON_RECONCILE_ENABLED",
      "RECKON_DASHBOARD_ENABLED", "RECKON_API_CORS_ORIGINS", "RECKON_LOG_FORMAT", "RECKON_JOB_SPEC",
    ])) == 0
    error_message = "extra_environment must not set a variable this module manages (listen, store, queue, ECS, secrets, ...)."
  }
}

# ---------------------------------------------------------------------------------------
# GitHub and reconciliation
# ---------------------------------------------------------------------------------------

variable "github_orgs" {
  description = "GitHub organisation logins to reconcile (RECKON_GITHUB_ORGS); one EventBridge schedule each."
  type        = list(string)

  validation {
    condition     = length(var.github_orgs) >= 1
    error_message = "github_orgs needs at least one organisation."
  }

  validation {
    condition = alltrue([
      for org in var.github_orgs : can(regex("^[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?$", org)) && !strcontains(org, "--")
    ])
    error_message = "Each org must be a GitHub login: 1-39 letters, digits or single hyphens, not starting or ending with a hyphen."
  }

  validation {
    condition     = length(distinct([for org in var.github_orgs : lower(org)])) == length(var.github_orgs)
    error_message = "github_orgs must not list an org twice (logins are case-insensitive)."
  }
}

variable "github_token" {
  description = "GitHub token(s), comma-separated, stored in Secrets Manager. Null (recommended): the secret is created empty and you put the value with the AWS CLI, so it never enters Terraform state."
  type        = string
  default     = null
  sensitive   = true
}

variable "reconcile_schedule_expression" {
  description = "When EventBridge Scheduler sends each org's reconcile task: cron() (6 fields) or rate()."
  type        = string
  default     = "cron(7 * * * ? *)"

  validation {
    condition     = can(regex("^(cron\\([^ ()]+( [^ ()]+){5}\\)|rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\))$", var.reconcile_schedule_expression))
    error_message = "reconcile_schedule_expression must be cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>) or rate(<n> minutes|hours|days)."
  }
}

variable "reconcile_schedule_timezone" {
  description = "Time zone of a cron() reconcile schedule (IANA name)."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.reconcile_schedule_timezone))
    error_message = "reconcile_schedule_timezone must be an IANA time zone such as UTC or Europe/Paris."
  }
}

variable "reconcile_schedule_enabled" {
  description = "Whether the reconcile schedules fire."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------
# Queue
# ---------------------------------------------------------------------------------------

variable "queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the task queue (the default lease; Reckon extends it while a task runs)."
  type        = number
  default     = 600

  validation {
    condition     = var.queue_visibility_timeout_seconds >= 0 && var.queue_visibility_timeout_seconds <= 43200 && floor(var.queue_visibility_timeout_seconds) == var.queue_visibility_timeout_seconds
    error_message = "queue_visibility_timeout_seconds must be a whole number from 0 to 43200."
  }
}

variable "queue_max_receive_count" {
  description = "Receives after which SQS itself moves a message to the DLQ. A safety net: keep it above Reckon's queue.max_attempts (5 by default), which dead-letters first."
  type        = number
  default     = 10

  validation {
    condition     = var.queue_max_receive_count >= 1 && var.queue_max_receive_count <= 1000 && floor(var.queue_max_receive_count) == var.queue_max_receive_count
    error_message = "queue_max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "queue_message_retention_seconds" {
  description = "How long the main queue keeps a task (the DLQ always keeps 14 days)."
  type        = number
  default     = 345600

  validation {
    condition     = var.queue_message_retention_seconds >= 60 && var.queue_message_retention_seconds <= 1209600
    error_message = "queue_message_retention_seconds must be from 60 to 1209600 (14 days)."
  }
}

# ---------------------------------------------------------------------------------------
# OpenSearch
# ---------------------------------------------------------------------------------------

variable "existing_opensearch_endpoint" {
  description = "Bring your own domain: its HTTPS endpoint host (no scheme), e.g. vpc-x.eu-west-1.es.amazonaws.com. Null: create a domain here."
  type        = string
  default     = null

  validation {
    condition     = var.existing_opensearch_endpoint == null || can(regex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$", var.existing_opensearch_endpoint))
    error_message = "existing_opensearch_endpoint must be a bare host name (no https://, no port, no path)."
  }
}

variable "existing_opensearch_password_secret_arn" {
  description = "With existing_opensearch_endpoint: the Secrets Manager secret holding the password of `opensearch_master_user_name` (a plain string). Admit the output task security groups on the domain's security group yourself."
  type        = string
  default     = null

  validation {
    condition     = var.existing_opensearch_password_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.existing_opensearch_password_secret_arn))
    error_message = "existing_opensearch_password_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "opensearch_master_user_name" {
  description = "Fine-grained access control user Reckon signs in as (the domain's master user when created here)."
  type        = string
  default     = "reckon"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_-]{0,63}$", var.opensearch_master_user_name))
    error_message = "opensearch_master_user_name must be 1-64 letters, digits, '_' or '-', starting with a letter."
  }
}

variable "opensearch_engine_version" {
  description = "Engine of the created domain (OpenSearch 2.x)."
  type        = string
  default     = "OpenSearch_2.19"

  validation {
    condition     = can(regex("^OpenSearch_2\\.[0-9]+$", var.opensearch_engine_version))
    error_message = "opensearch_engine_version must be OpenSearch_2.<minor>; Reckon supports OpenSearch 2.x."
  }
}

variable "opensearch_instance_type" {
  description = "Data node instance type."
  type        = string
  default     = "t3.small.search"

  validation {
    condition     = can(regex("^[a-z0-9]+\\.[a-z0-9]+\\.search$", var.opensearch_instance_type))
    error_message = "opensearch_instance_type must be an OpenSearch instance type such as t3.small.search."
  }
}

variable "opensearch_instance_count" {
  description = "Data nodes: 1, or an even number spread over two AZs (needs two private subnets)."
  type        = number
  default     = 1

  validation {
    condition     = var.opensearch_instance_count == 1 || (var.opensearch_instance_count >= 2 && var.opensearch_instance_count <= 20 && var.opensearch_instance_count % 2 == 0)
    error_message = "opensearch_instance_count must be 1 or an even number from 2 to 20."
  }
}

variable "opensearch_volume_size_gb" {
  description = "gp3 EBS volume per data node, GiB."
  type        = number
  default     = 10

  validation {
    condition     = var.opensearch_volume_size_gb >= 10 && var.opensearch_volume_size_gb <= 16384
    error_message = "opensearch_volume_size_gb must be from 10 to 16384."
  }
}

variable "create_opensearch_service_linked_role" {
  description = "Create the AWSServiceRoleForAmazonOpenSearchService role a VPC domain needs. Leave false if the account already has it (any earlier VPC domain created it)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------
# Dashboard (S3 + CloudFront)
# ---------------------------------------------------------------------------------------

variable "dashboard_bucket_name" {
  description = "Bucket for the dashboard's files. Null: <name>-dashboard-<account id>."
  type        = string
  default     = null

  validation {
    condition     = var.dashboard_bucket_name == null || (can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.dashboard_bucket_name)) && !strcontains(coalesce(var.dashboard_bucket_name, "x"), ".."))
    error_message = "dashboard_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-')."
  }
}

variable "dashboard_api_routing" {
  description = "Route /api/*, /hooks/* and /healthz on the dashboard's CloudFront distribution to the service (origin `domain_name`, so it needs one), so the dashboard calls its API on its own origin. False: build the dashboard with VITE_RECKON_API_BASE=<public URL> instead (CORS is allowed either way)."
  type        = bool
  default     = true
}

variable "dashboard_domain_name" {
  description = "Custom host name for the dashboard (needs dashboard_certificate_arn). Null: the distribution's cloudfront.net name."
  type        = string
  default     = null

  validation {
    condition     = var.dashboard_domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.dashboard_domain_name))
    error_message = "dashboard_domain_name must be a lowercase host name such as stats.example.com."
  }
}

variable "dashboard_certificate_arn" {
  description = "ACM certificate in us-east-1 (CloudFront's region) covering dashboard_domain_name."
  type        = string
  default     = null

  validation {
    condition     = var.dashboard_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$", var.dashboard_certificate_arn))
    error_message = "dashboard_certificate_arn must be an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from there)."
  }
}

variable "cloudfront_web_acl_arn" {
  description = "WAFv2 web ACL (CLOUDFRONT scope, in us-east-1) for the dashboard distribution. Null: none."
  type        = string
  default     = null

  validation {
    condition     = var.cloudfront_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/.+$", var.cloudfront_web_acl_arn))
    error_message = "cloudfront_web_acl_arn must be a global (CLOUDFRONT scope) WAFv2 web ACL ARN in us-east-1."
  }
}

variable "cloudfront_price_class" {
  description = "CloudFront price class of the dashboard distribution."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cloudfront_price_class)
    error_message = "cloudfront_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

# ---------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Days CloudWatch keeps the service, jobs and OpenSearch logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}
