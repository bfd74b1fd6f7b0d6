# The delivery pipeline's two roles, and the permissions boundaries that keep them and every role
# they create from growing past this stack. tests/infra/test_pipeline_roles.py renders these
# documents (terraform plan) and evaluates them: the deploy role cannot reach the pipeline roles
# or the boundaries, cannot create or edit a role without the service boundary, and can still do
# what `terraform apply` of infra/ needs.
locals {
  arn_prefix = "arn:${local.partition}"
  acct       = local.account_id
  region     = var.region

  # Service roles (infra/iam.tf) live on their own path; the pipeline's roles and the boundaries
  # on another, which no deploy statement names: `role/<name>/*` never matches
  # `role/<name>-pipeline/...`.
  service_role_path = "/${var.name}/"
  pipeline_path     = "/${var.name}-pipeline/"
  service_roles     = "${local.arn_prefix}:iam::${local.acct}:role${local.service_role_path}*"
  pipeline_roles    = "${local.arn_prefix}:iam::${local.acct}:role${local.pipeline_path}*"
  pipeline_policies = "${local.arn_prefix}:iam::${local.acct}:policy${local.pipeline_path}*"
  service_boundary  = "${local.arn_prefix}:iam::${local.acct}:policy${local.pipeline_path}${var.name}-service-boundary"
  pipeline_boundary = "${local.arn_prefix}:iam::${local.acct}:policy${local.pipeline_path}${var.name}-pipeline-boundary"
  state_object      = "${local.state_bucket_arn}/${var.state_key}"
  state_lock        = "${local.state_bucket_arn}/${var.state_key}.tflock"
  table             = "${local.arn_prefix}:dynamodb:${local.region}:${local.acct}:table/${var.table_name}"
  web_acl           = "${local.arn_prefix}:wafv2:us-east-1:${local.acct}:global/webacl/${var.name}-edge/*"

  # Exact names, never `<name>-*`: stack names may hold hyphens, so `llm-catalogue-*` would also
  # match every resource of a stack named `llm-catalogue-prod`. These are the main stack's names
  # (infra/*.tf); a resource it adds under a new name is refused until it is listed here, and
  # tests/infra/test_pipeline_roles.py::test_deploy_role_allows_every_call_the_apply_makes says which.
  function_names    = [for f in ["publisher", "read-api", "canary"] : "${var.name}-${f}"]
  functions         = [for f in local.function_names : "${local.arn_prefix}:lambda:${local.region}:${local.acct}:function:${f}"]
  function_versions = [for f in local.functions : "${f}:*"]
  site_bucket       = "${local.arn_prefix}:s3:::${var.site_bucket_name != "" ? var.site_bucket_name : "${var.name}-site-${local.acct}"}"
  lambda_log_groups = flatten([for f in local.function_names : [
    "${local.arn_prefix}:logs:${local.region}:${local.acct}:log-group:/aws/lambda/${f}",
    "${local.arn_prefix}:logs:${local.region}:${local.acct}:log-group:/aws/lambda/${f}:*",
  ]])
  waf_log_group     = ["${local.arn_prefix}:logs:us-east-1:${local.acct}:log-group:aws-waf-logs-${var.name}", "${local.arn_prefix}:logs:us-east-1:${local.acct}:log-group:aws-waf-logs-${var.name}:*"]
  queues            = ["${local.arn_prefix}:sqs:${local.region}:${local.acct}:${var.name}-publisher-dlq"]
  topics            = [for t in ["alarms", "tickets", "edge-alarms", "edge-tickets"] : "${local.arn_prefix}:sns:${startswith(t, "edge-") ? "us-east-1" : local.region}:${local.acct}:${var.name}-${t}"]
  subscriptions     = [for t in local.topics : "${t}:*"] # a subscription's ARN is its topic's and an ID
  schedules         = [for s in ["reconcile", "canary"] : "${local.arn_prefix}:scheduler:${local.region}:${local.acct}:schedule/default/${var.name}-${s}"]
  stack_key_aliases = ["alias/${var.name}", "alias/${var.name}-edge"]
  # The service roles by name (the path alone would let the pipeline add a role of its own making).
  service_role_arns = [for r in ["publisher-role", "read-api-role", "canary-role", "reconcile-scheduler-role", "canary-scheduler-role"] : "${local.arn_prefix}:iam::${local.acct}:role${local.service_role_path}${var.name}-${r}"]
  # Alarm names come from maps in infra/ (one per SLO window): `<name>-*` plus the stack's tag,
  # which the deploy role can neither set on another stack's alarm nor remove from it.
  alarms = ["${local.arn_prefix}:cloudwatch:${local.region}:${local.acct}:alarm:${var.name}-*", "${local.arn_prefix}:cloudwatch:us-east-1:${local.acct}:alarm:${var.name}-*"]
  # The tag keys the main stack sets (infra/main.tf local.tags, plus var.tags' keys).
  tag_keys            = concat(["service", "managed_by"], var.extra_tag_keys)
  workflow_ref        = "${var.github_repository}/${var.workflow_path}"
  github_sub_keys     = ["repo", "context", "job_workflow_ref"]
  cloudfront_policies = ["origin-access-control/*", "cache-policy/*", "response-headers-policy/*"]
}

# --- trust: GitHub OIDC with a customised subject ----------------------------------------------
# The repository's OIDC subject is customised (one-time `gh api`, infra/README.md) to carry the
# context (environment or pull_request) and job_workflow_ref (workflow file @ ref). The default
# subject (`repo:<owner>/<name>:environment:production`) matches neither statement, so a
# repository without the customisation is refused: the restriction fails closed.

data "aws_iam_policy_document" "assume_from_pull_requests" {
  # checkov:skip=CKV_AWS_358:The subject is the customised form repo:<owner>/<name>:<context>:job_workflow_ref:<workflow>@<ref>, pinned to one repository, workflow file and ref; the check parses only the default form and cannot read the repository from a variable.
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "${local.oidc_url}:sub"
      values   = ["repo:${var.github_repository}:pull_request:job_workflow_ref:${local.workflow_ref}@refs/pull/*/merge"]
    }
  }
}

data "aws_iam_policy_document" "assume_from_deploy_environment" {
  # checkov:skip=CKV_AWS_358:The subject is the customised form repo:<owner>/<name>:<context>:job_workflow_ref:<workflow>@<ref>, pinned to one repository, workflow file and ref; the check parses only the default form and cannot read the repository from a variable.
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_url}:sub"
      values   = ["repo:${var.github_repository}:environment:${var.deploy_environment}:job_workflow_ref:${local.workflow_ref}@${var.deploy_ref}"]
    }
  }
}

# --- the guard rails both boundaries and the deploy policy repeat ------------------------------

data "aws_iam_policy_document" "guard_rails" {
  # The pipeline's own roles: readable, never written (policies, trust, boundary, deletion).
  statement {
    sid         = "PipelineRolesAreOutOfReach"
    effect      = "Deny"
    not_actions = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags"]
    resources   = [local.pipeline_roles]
  }

  statement {
    sid    = "BoundariesAreOutOfReach"
    effect = "Deny"
    actions = [
      "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
      "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy",
    ]
    resources = [local.pipeline_policies]
  }

  # Every role created, re-bounded or given a policy must carry the service boundary.
  statement {
    sid    = "NoRoleWithoutTheServiceBoundary"
    effect = "Deny"
    actions = [
      "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:AttachRolePolicy",
      "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
    ]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.service_boundary]
    }
  }

  statement {
    sid       = "BoundariesStay"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"]
    resources = ["*"]
  }

  # What a push to main must never be able to destroy: the table, its backups, the key that
  # encrypts both, the bucket and its object versions (the snapshot's history). Tearing the stack
  # down is an administrator's job.
  statement {
    sid    = "TheDataOutlivesThePipeline"
    effect = "Deny"
    actions = [
      "dynamodb:DeleteTable", "dynamodb:DeleteBackup", "kms:ScheduleKeyDeletion", "kms:DeleteImportedKeyMaterial",
      "s3:DeleteBucket", "s3:DeleteObjectVersion",
    ]
    resources = ["*"]
  }

  # Nothing outside the account gets a way in: no resource policy on the table, no ACL or access
  # point on the bucket, no key policy rewrite, no queue or topic permission, no trust policy
  # rewrite (a service role's trust is written once, at creation, from reviewed code: the pipeline
  # can neither change it nor delete the role to create it anew with another). What IAM cannot
  # read (the content of a bucket, queue or topic policy, a public access block, a new role's
  # trust) is checked in the plan before apply (tests/infra/planned_policies.py).
  statement {
    sid    = "NoGrantsToOutsiders"
    effect = "Deny"
    actions = [
      "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy", "kms:PutKeyPolicy",
      "s3:PutBucketAcl", "s3:PutObjectAcl", "s3:PutObjectVersionAcl", "s3:CreateAccessPoint", "s3:PutAccessPointPolicy",
      "s3:PutAccountPublicAccessBlock", "sqs:AddPermission", "sns:AddPermission", "lambda:AddLayerVersionPermission",
      "iam:UpdateAssumeRolePolicy", "iam:DeleteRole",
    ]
    resources = ["*"]
  }

  # A grant on the key only for an AWS service acting for the caller (DynamoDB and Lambda create
  # grants on the table's and functions' behalf), never to a principal of the pipeline's choosing.
  statement {
    sid       = "KeyGrantsOnlyForAwsResources"
    effect    = "Deny"
    actions   = ["kms:CreateGrant"]
    resources = ["*"]

    condition {
      test     = "BoolIfExists"
      variable = "kms:GrantIsForAWSResource"
      values   = ["false"]
    }
  }

  # Alarms are named from maps (`<name>-*`, which also matches a stack named `<name>-prod`): one
  # that carries another stack's tag is out of reach, and so is changing that tag.
  statement {
    sid       = "OtherStacksAreOutOfReach"
    effect    = "Deny"
    actions   = ["cloudwatch:*", "cloudfront:*", "lambda:*", "logs:*", "sqs:*", "sns:*", "kms:*", "dynamodb:*", "scheduler:*", "wafv2:*"]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/service"
      values   = [var.name]
    }

    condition {
      test     = "Null"
      variable = "aws:ResourceTag/service"
      values   = ["false"]
    }
  }

  # No long-lived identities and no managed policies of the pipeline's own making.
  statement {
    sid    = "NoUsersKeysOrPolicies"
    effect = "Deny"
    actions = [
      "iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:CreateGroup",
      "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:AttachUserPolicy", "iam:PutUserPolicy",
      "iam:AttachGroupPolicy", "iam:PutGroupPolicy", "iam:AddUserToGroup", "iam:CreateOpenIDConnectProvider",
      "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
    ]
    resources = ["*"]
  }
}

# --- boundaries --------------------------------------------------------------------------------

# Ceiling of every role the pipeline creates (the functions' and the scheduler's): the union of
# what infra/iam.tf grants, on this stack's resources only.
data "aws_iam_policy_document" "service_boundary" {
  # checkov:skip=CKV_AWS_356:Only X-Ray (no resource type) and KMS (key ARNs unknown before the main stack exists; the roles' own policies name the key) use wildcards.
  # checkov:skip=CKV_AWS_111:Write actions on wildcards are X-Ray's, which have no resource type, and KMS data-key use inside this account.
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = local.lambda_log_groups
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  # GetObjectVersion and ListBucketVersions: a read function that finds llms.json deleted takes
  # the snapshot version from its surviving versions (infra/iam.tf, NewestPublishedVersion).
  statement {
    sid       = "SiteObjects"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.site_bucket}/*"]
  }

  statement {
    sid       = "SiteListing"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.site_bucket]
  }

  statement {
    sid       = "TableAndStream"
    actions   = ["dynamodb:Scan", "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
    resources = [local.table, "${local.table}/stream/*"]
  }

  # The freshness canary writes its heartbeat item (its own policy narrows it to that key).
  statement {
    sid       = "CanaryHeartbeat"
    actions   = ["dynamodb:PutItem"]
    resources = [local.table]
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = local.queues
  }

  # Only keys carrying this stack's alias. Key ARNs are unknown before the main stack exists, and a
  # tag would not do (the deploy role tags what it creates); an alias needs kms:CreateAlias on the
  # key as well, which the deploy role holds on no key but the stack's own. Without this, a role the
  # pipeline writes, run by a function it deploys, could decrypt with any key in the account.
  statement {
    sid       = "ServiceKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["${local.arn_prefix}:kms:${local.region}:${local.acct}:key/*"]

    condition {
      test     = "ForAnyValue:StringLike"
      variable = "kms:ResourceAliases"
      values   = local.stack_key_aliases
    }
  }

  statement {
    sid       = "InvokeOwnFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = local.functions
  }
}

resource "aws_iam_policy" "service_boundary" {
  name        = "${var.name}-service-boundary"
  path        = local.pipeline_path
  description = "Permissions boundary of every role the ${var.name} pipeline creates."
  policy      = data.aws_iam_policy_document.service_boundary.json
}

# Ceiling of the pipeline roles themselves: the services the stack uses, IAM only on the service
# roles, and the guard rails. Even a policy attached to them by mistake cannot reach past it.
data "aws_iam_policy_document" "pipeline_boundary" {
  # checkov:skip=CKV_AWS_356:A boundary is a ceiling, not a grant: the services the stack uses on "*"; the identity policies pin resources.
  # checkov:skip=CKV_AWS_111:A boundary is a ceiling, not a grant; write access is pinned by the identity policies and fenced by the denies here.
  # checkov:skip=CKV_AWS_109:A boundary is a ceiling, not a grant; the guard-rail denies keep permissions management off the pipeline roles and boundaries.
  # checkov:skip=CKV_AWS_110:A boundary is a ceiling, not a grant: IAM is limited to the service-role path and the guard rails deny every escalation (tests/infra/test_pipeline_roles.py evaluates them).
  # checkov:skip=CKV_AWS_108:A boundary is a ceiling, not a grant; what the roles may read is pinned by their identity policies (the plan role reads no object, item or log event).
  source_policy_documents = [data.aws_iam_policy_document.guard_rails.json]

  statement {
    sid = "StackServices"
    actions = [
      "dynamodb:*", "s3:*", "lambda:*", "logs:*", "sqs:*", "sns:*", "cloudwatch:*", "cloudfront:*",
      "wafv2:*", "scheduler:*", "kms:*", "sts:GetCallerIdentity",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "ServiceRolesOnly"
    actions   = ["iam:*"]
    resources = [local.service_roles]
  }

  statement {
    sid       = "ReadIam"
    actions   = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "pipeline_boundary" {
  name        = "${var.name}-pipeline-boundary"
  path        = local.pipeline_path
  description = "Permissions boundary of the ${var.name} pipeline roles."
  policy      = data.aws_iam_policy_document.pipeline_boundary.json
}

# --- plan role (pull requests): read this stack, lock the state --------------------------------

resource "aws_iam_role" "plan" {
  name                 = "${var.name}-github-plan"
  path                 = local.pipeline_path
  description          = "Assumed by pull-request runs of ${var.workflow_path} in ${var.github_repository} to run terraform plan."
  assume_role_policy   = data.aws_iam_policy_document.assume_from_pull_requests.json
  permissions_boundary = local.pipeline_boundary
  max_session_duration = 3600

  depends_on = [aws_iam_policy.pipeline_boundary]
}

resource "aws_iam_role_policy" "plan" {
  name   = "plan-${var.name}"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

# What `terraform plan` of infra/ refreshes, read-only, on this stack's resources; no object of the
# site bucket, no table item, no log event. KMS key metadata is granted by the key's own policy.
data "aws_iam_policy_document" "plan" {
  # checkov:skip=CKV_AWS_356:Only listing actions AWS gives no resource type (log groups, KMS aliases) use "*".
  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = [local.state_object]
  }

  # No write to the .tflock: a pull request's plan runs with -lock=false (ci.yml), so it can
  # neither take nor break the lock of a running apply.

  statement {
    sid       = "Table"
    actions   = ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource", "dynamodb:DescribeKinesisStreamingDestination", "dynamodb:GetResourcePolicy"]
    resources = [local.table]
  }

  # Bucket configuration only (the ARN without /*): never an object.
  statement {
    sid       = "SiteBucketConfiguration"
    actions   = ["s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetAccelerateConfiguration", "s3:GetReplicationConfiguration"]
    resources = [local.site_bucket]
  }

  # The provider reads a bucket with HeadBucket, which IAM authorises as s3:ListBucket: it lists key
  # names (all public but internal/'s), never an object's bytes.
  statement {
    sid       = "SiteBucketExists"
    actions   = ["s3:ListBucket"]
    resources = [local.site_bucket]
  }

  statement {
    sid       = "Functions"
    actions   = ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionEventInvokeConfig", "lambda:GetFunctionUrlConfig", "lambda:GetPolicy", "lambda:GetFunctionConcurrency", "lambda:GetFunctionCodeSigningConfig", "lambda:GetAlias", "lambda:GetProvisionedConcurrencyConfig", "lambda:ListVersionsByFunction", "lambda:ListTags", "lambda:GetLayerVersion", "lambda:GetEventSourceMapping", "lambda:ListEventSourceMappings"]
    resources = concat(local.functions, local.function_versions, ["${local.arn_prefix}:lambda:${local.region}:${local.acct}:event-source-mapping:*", "${local.arn_prefix}:lambda:${local.region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-*"])
  }

  statement {
    sid       = "ServiceRoles"
    actions   = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"]
    resources = local.service_role_arns
  }

  statement {
    sid       = "LogGroups"
    actions   = ["logs:ListTagsForResource", "logs:ListTagsLogGroup"]
    resources = concat(local.lambda_log_groups, local.waf_log_group)
  }

  # No resource type: lists the account's log group names and KMS aliases (metadata, no events).
  statement {
    sid       = "Listings"
    actions   = ["logs:DescribeLogGroups", "kms:ListAliases"]
    resources = ["*"]
  }

  # No subscription read (GetSubscriptionAttributes, ListSubscriptionsByTopic): the main stack holds
  # no subscription, and their endpoints are on-call's e-mail addresses.
  statement {
    sid       = "QueueAndTopics"
    actions   = ["sqs:GetQueueAttributes", "sqs:ListQueueTags", "sns:GetTopicAttributes", "sns:ListTagsForResource"]
    resources = concat(local.queues, local.topics)
  }

  statement {
    sid       = "AlarmsAndDashboard"
    actions   = ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource", "cloudwatch:GetDashboard"]
    resources = concat(local.alarms, ["${local.arn_prefix}:cloudwatch::${local.acct}:dashboard/${var.name}"])
  }

  # Distribution IDs are random: a distribution is this stack's by its tag, so the plan role
  # reads no other team's distribution config. OAC, cache and response headers policies take no
  # tags; their configurations hold no secret.
  statement {
    sid       = "Distribution"
    actions   = ["cloudfront:GetDistribution", "cloudfront:GetDistributionConfig", "cloudfront:ListTagsForResource"]
    resources = ["${local.arn_prefix}:cloudfront::${local.acct}:distribution/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/service"
      values   = [var.name]
    }
  }

  statement {
    sid       = "Edge"
    actions   = ["cloudfront:GetOriginAccessControl", "cloudfront:GetCachePolicy", "cloudfront:GetResponseHeadersPolicy", "wafv2:GetWebACL", "wafv2:GetLoggingConfiguration", "wafv2:ListTagsForResource"]
    resources = concat([for o in local.cloudfront_policies : "${local.arn_prefix}:cloudfront::${local.acct}:${o}"], [local.web_acl])
  }

  statement {
    sid       = "Schedule"
    actions   = ["scheduler:GetSchedule"]
    resources = local.schedules
  }
}

# --- deploy role (main, through the protected environment) -------------------------------------

resource "aws_iam_role" "deploy" {
  name                 = "${var.name}-github-deploy"
  path                 = local.pipeline_path
  description          = "Assumed by ${var.workflow_path} on ${var.deploy_ref} in the ${var.deploy_environment} environment of ${var.github_repository} to run terraform apply."
  assume_role_policy   = data.aws_iam_policy_document.assume_from_deploy_environment.json
  permissions_boundary = local.pipeline_boundary
  max_session_duration = 3600

  depends_on = [aws_iam_policy.pipeline_boundary]
}

resource "aws_iam_role_policy" "deploy" {
  name   = "manage-${var.name}"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}

# Write access only to resources named after the stack. The statements on "*" are the actions
# AWS gives no resource type (or whose resource has no name before it exists); each says why.
data "aws_iam_policy_document" "deploy" {
  # checkov:skip=CKV_AWS_356:The "*" statements are actions without a resource type (log delivery, listings) or checked by condition (kms:CreateKey by tag, event source mappings by function); see each.
  # checkov:skip=CKV_AWS_111:Write actions on "*" are log delivery (no resource type), kms:CreateKey/TagResource gated on the stack tag, and event source mappings gated on lambda:FunctionArn.
  # checkov:skip=CKV_AWS_109:logs:PutResourcePolicy has no resource type (WAF log delivery needs it); IAM writes are pinned to the service-role path and fenced by the guard rails.
  source_policy_documents = [data.aws_iam_policy_document.guard_rails.json]

  statement {
    sid       = "TerraformState"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "TerraformStateObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.state_object, local.state_lock]
  }

  statement {
    sid       = "Table"
    actions   = ["dynamodb:*"]
    resources = [local.table, "${local.table}/*"]
  }

  statement {
    sid       = "SiteBucket"
    actions   = ["s3:*"]
    resources = [local.site_bucket, "${local.site_bucket}/*"]
  }

  statement {
    sid       = "Functions"
    actions   = ["lambda:*"]
    resources = concat(local.functions, local.function_versions)
  }

  # A function's resource policy may name only CloudFront, and a function URL only take IAM auth:
  # the pipeline cannot open a public path to a function.
  statement {
    sid       = "OnlyCloudFrontMayInvoke"
    effect    = "Deny"
    actions   = ["lambda:AddPermission"]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "lambda:Principal"
      values   = ["cloudfront.amazonaws.com"]
    }
  }

  statement {
    sid       = "FunctionUrlsNeedIam"
    effect    = "Deny"
    actions   = ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "lambda:FunctionUrlAuthType"
      values   = ["AWS_IAM"]
    }
  }

  # Mapping IDs are assigned at creation: writes are allowed only for this stack's functions.
  statement {
    sid       = "StreamTriggerWrites"
    actions   = ["lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"]
    resources = ["*"]

    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = local.functions
    }
  }

  # Reading mappings has no function condition key: it covers the account's mappings.
  statement {
    sid       = "StreamTriggerReads"
    actions   = ["lambda:GetEventSourceMapping", "lambda:ListEventSourceMappings", "lambda:ListTags", "lambda:TagResource", "lambda:UntagResource"]
    resources = ["${local.arn_prefix}:lambda:${local.region}:${local.acct}:event-source-mapping:*"]
  }

  statement {
    sid       = "PowertoolsLayer"
    actions   = ["lambda:GetLayerVersion"]
    resources = ["${local.arn_prefix}:lambda:${local.region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-*"]
  }

  # Creating a service role, giving it a policy or re-bounding it: only with the service boundary.
  statement {
    sid       = "BoundedServiceRoles"
    actions   = ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy"]
    resources = local.service_role_arns

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.service_boundary]
    }
  }

  statement {
    sid = "ServiceRoles"
    actions = [
      "iam:GetRole", "iam:UpdateRole", "iam:TagRole", "iam:UntagRole", "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies", "iam:GetRolePolicy", "iam:ListInstanceProfilesForRole",
    ]
    resources = local.service_role_arns
  }

  statement {
    sid       = "PassServiceRoles"
    actions   = ["iam:PassRole"]
    resources = local.service_role_arns

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com", "scheduler.amazonaws.com"]
    }
  }

  statement {
    sid       = "LogGroups"
    actions   = ["logs:*"]
    resources = concat(local.lambda_log_groups, local.waf_log_group)
  }

  # WAF log delivery to CloudWatch Logs: these actions have no resource type in IAM.
  statement {
    sid = "WafLogDelivery"
    actions = [
      "logs:DescribeLogGroups", "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "QueueAndTopics"
    actions   = ["sqs:*", "sns:*"]
    resources = concat(local.queues, local.topics, local.subscriptions)
  }

  statement {
    sid = "AlarmsAndDashboard"
    actions = [
      "cloudwatch:PutMetricAlarm", "cloudwatch:PutCompositeAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
      "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource",
      "cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards",
    ]
    resources = concat(local.alarms, ["${local.arn_prefix}:cloudwatch::${local.acct}:dashboard/${var.name}"])
  }

  # Distribution IDs are random and unknown before creation: a distribution is this stack's by
  # its tag, set at creation (CreateDistributionWithTags) and required for every later call, so
  # another team's distribution is out of reach (and OtherStacksAreOutOfReach keeps the tag).
  statement {
    sid       = "CreateDistribution"
    actions   = ["cloudfront:CreateDistributionWithTags", "cloudfront:TagResource"]
    resources = ["${local.arn_prefix}:cloudfront::${local.acct}:distribution/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/service"
      values   = [var.name]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = local.tag_keys
    }
  }

  statement {
    sid = "Distribution"
    actions = [
      "cloudfront:CreateDistribution", "cloudfront:GetDistribution", "cloudfront:GetDistributionConfig",
      "cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution", "cloudfront:UntagResource",
      "cloudfront:ListTagsForResource",
    ]
    resources = ["${local.arn_prefix}:cloudfront::${local.acct}:distribution/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/service"
      values   = [var.name]
    }
  }

  # OAC, cache and response headers policy IDs are random and these take no tags: creating and
  # reading them is the account's, with the actions `terraform apply` calls.
  statement {
    sid = "EdgePolicies"
    actions = [
      "cloudfront:CreateOriginAccessControl", "cloudfront:GetOriginAccessControl", "cloudfront:CreateCachePolicy",
      "cloudfront:GetCachePolicy", "cloudfront:CreateResponseHeadersPolicy", "cloudfront:GetResponseHeadersPolicy",
    ]
    resources = [for o in local.cloudfront_policies : "${local.arn_prefix}:cloudfront::${local.acct}:${o}"]
  }

  # Changing or deleting one: the stack's own, once var.edge_policy_ids names them (their IDs exist
  # only after the first apply); until then the account's.
  statement {
    sid = "EdgePolicyChanges"
    actions = [
      "cloudfront:UpdateOriginAccessControl", "cloudfront:DeleteOriginAccessControl", "cloudfront:UpdateCachePolicy",
      "cloudfront:DeleteCachePolicy", "cloudfront:UpdateResponseHeadersPolicy", "cloudfront:DeleteResponseHeadersPolicy",
    ]
    resources = length(var.edge_policy_ids) == 0 ? [for o in local.cloudfront_policies : "${local.arn_prefix}:cloudfront::${local.acct}:${o}"] : flatten([
      for o in ["origin-access-control", "cache-policy", "response-headers-policy"] : [for id in var.edge_policy_ids : "${local.arn_prefix}:cloudfront::${local.acct}:${o}/${id}"]
    ])
  }

  statement {
    sid     = "EdgeWebAcl"
    actions = ["wafv2:*"]
    resources = [
      local.web_acl,
      "${local.arn_prefix}:wafv2:us-east-1:${local.acct}:global/managedruleset/*/*",
    ]
  }

  statement {
    sid       = "ReconcileSchedule"
    actions   = ["scheduler:*"]
    resources = local.schedules
  }

  # A new key has no ARN yet: it may be created (and tagged at creation) only with the stack's
  # tag. Nothing grants kms actions by that tag, so tagging a foreign key gains nothing: this
  # stack's keys are managed through their own key policies, which name this role
  # (infra/kms.tf), never through tags.
  statement {
    sid       = "CreateServiceKey"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/service"
      values   = [var.name]
    }

    # Only the stack's own tag keys: no key of another team's attribute-based access control.
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = local.tag_keys
    }
  }

  statement {
    sid       = "ServiceKeyAlias"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = flatten([for r in distinct([local.region, "us-east-1"]) : [for a in local.stack_key_aliases : "${local.arn_prefix}:kms:${r}:${local.acct}:${a}"]])
  }

  statement {
    sid       = "KeyAliases"
    actions   = ["kms:ListAliases"]
    resources = ["*"]
  }
}
