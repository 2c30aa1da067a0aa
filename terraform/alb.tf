# Internet-facing ALB in the public subnets: HTTPS on 443 (ACM certificate, TLS 1.2+)
# forwarding to the service on 8080; HTTP on 80 only redirects to HTTPS.

resource "aws_lb" "this" {
  name                       = var.name
  internal                   = false
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.alb.id]
  subnets                    = var.public_subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.alb_deletion_protection
  idle_timeout               = 120 # webhook bodies up to 25 MB
  tags                       = local.tags

  dynamic "access_logs" {
    for_each = var.alb_access_logs_bucket == null ? [] : [var.alb_access_logs_bucket]
    content {
      bucket  = access_logs.value
      prefix  = var.name
      enabled = true
    }
  }
}

resource "aws_lb_target_group" "service" {
  name                 = "${var.name}-serve"
  port                 = 8080
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path                = "/healthz"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = local.tags
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.alb_ssl_policy
  certificate_arn   = var.certificate_arn

  # Closed unless a rule below opens the path: Reckon's read API has no authentication
  # yet, so only what GitHub and the health check need faces the internet.
  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      status_code  = "404"
      message_body = jsonencode({ code = "not_found", message = "not served on the public endpoint" })
    }
  }

  tags = local.tags
}

# Webhooks (HMAC-verified by Reckon) and the health check, from anywhere the security
# group admits.
resource "aws_lb_listener_rule" "hooks" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  condition {
    path_pattern {
      values = ["/hooks/*", "/healthz"]
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service.arn
  }

  tags = local.tags
}

# Everything else (stats API, delivery log, drift, metrics, readiness) only from
# `api_allowed_cidrs`.
resource "aws_lb_listener_rule" "api" {
  count        = length(var.api_allowed_cidrs) > 0 ? 1 : 0
  listener_arn = aws_lb_listener.https.arn
  priority     = 20

  condition {
    source_ip {
      values = var.api_allowed_cidrs
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service.arn
  }

  tags = local.tags
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }

  tags = local.tags
}

# Optional: a WAFv2 web ACL (REGIONAL scope) in front of the ALB.
resource "aws_wafv2_web_acl_association" "alb" {
  count        = var.alb_web_acl_arn == null ? 0 : 1
  resource_arn = aws_lb.this.arn
  web_acl_arn  = var.alb_web_acl_arn
}

# Optional: domain_name as an alias of the ALB.
resource "aws_route53_record" "service" {
  count = var.route53_zone_id != null && var.domain_name != null ? 1 : 0

  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}
