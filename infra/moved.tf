# Each function's log group, role, inline policy and function moved into one instance of
# modules/function: an existing deployment's state follows them here, so `terraform plan` moves
# the resources (same names, same settings) instead of destroying and recreating them.
# tests/infra/test_moved.py applies the layout before the module, then plans this one.

moved {
  from = aws_cloudwatch_log_group.publisher
  to   = module.publisher.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.publisher
  to   = module.publisher.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.publisher
  to   = module.publisher.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.publisher
  to   = module.publisher.aws_lambda_function.this
}

moved {
  from = aws_cloudwatch_log_group.read
  to   = module.read.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.read
  to   = module.read.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.read
  to   = module.read.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.read
  to   = module.read.aws_lambda_function.this
}

moved {
  from = aws_cloudwatch_log_group.canary
  to   = module.canary.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.canary
  to   = module.canary.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.canary
  to   = module.canary.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.canary
  to   = module.canary.aws_lambda_function.this
}

# The alert e-mail subscriptions left this stack (their endpoints are personal data the plan role
# would read in the state; infra/observability.tf): an older deployment forgets them without
# destroying them, so nobody is unsubscribed.
removed {
  from = aws_sns_topic_subscription.alarm_email
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_sns_topic_subscription.edge_alarm_email
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_sns_topic_subscription.ticket_email
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_sns_topic_subscription.edge_ticket_email
  lifecycle {
    destroy = false
  }
}
