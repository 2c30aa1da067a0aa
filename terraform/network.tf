# Security groups. The VPC and subnets are inputs (examples/complete builds them).
#
#   internet --443/80--> ALB --8080--> service tasks --443--> OpenSearch, AWS APIs, GitHub
#                                      jobs tasks    --443--> OpenSearch, GitHub
#
# Tasks reach GitHub and the AWS APIs over the private subnets' NAT (or VPC endpoints),
# so their egress is HTTPS to anywhere; nothing may connect to a job task.

resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  description = "Reckon ALB: HTTPS (and HTTP, redirected) from the allowed CIDRs"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-alb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "service" {
  name_prefix = "${var.name}-service-"
  description = "Reckon service tasks: 8080 from the ALB only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-service" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "jobs" {
  name_prefix = "${var.name}-jobs-"
  description = "Reckon job tasks: no inbound"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-jobs" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "opensearch" {
  count       = local.create_opensearch ? 1 : 0
  name_prefix = "${var.name}-opensearch-"
  description = "Reckon OpenSearch domain: 443 from the service and job tasks only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-opensearch" })

  lifecycle {
    create_before_destroy = true
  }
}

# --- ALB ---------------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each          = toset(var.alb_ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  for_each          = toset(var.alb_ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTP, answered with a redirect to HTTPS"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_egress_rule" "alb_to_service" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the service tasks"
  referenced_security_group_id = aws_security_group.service.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

# --- service -----------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "service_from_alb" {
  security_group_id            = aws_security_group.service.id
  description                  = "From the ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_egress_rule" "service_https" {
  security_group_id = aws_security_group.service.id
  description       = "HTTPS: OpenSearch, AWS APIs, GitHub"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# --- jobs --------------------------------------------------------------------------------

resource "aws_vpc_security_group_egress_rule" "jobs_https" {
  security_group_id = aws_security_group.jobs.id
  description       = "HTTPS: OpenSearch, ECR, GitHub"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# --- OpenSearch --------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "opensearch_from_tasks" {
  for_each = local.create_opensearch ? {
    service = aws_security_group.service.id
    jobs    = aws_security_group.jobs.id
  } : {}
  security_group_id            = aws_security_group.opensearch[0].id
  description                  = "HTTPS from the ${each.key} tasks"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
}
