locals {
  # Route key -> scopes the token must carry; an empty list means any valid token.
  routes = merge(
    { for r in var.reader_routes : r => [] },
    { for r in var.admin_routes : r => [var.admin_scope] },
  )
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "Rosetta Monitoring API for Backstage"
  tags          = var.tags

  # API Gateway answers preflight requests itself and ignores CORS headers from the function: it allows and exposes
  # what the app's CORS does (functions/api/main.py), so a page revalidates by the ETag it read (If-None-Match), sends
  # a mapping change made from the version it read (If-Match) and reads when to ask again after a 503 (Retry-After).
  cors_configuration {
    allow_origins  = var.cors_allow_origins
    allow_methods  = ["GET", "HEAD", "POST", "OPTIONS"]
    allow_headers  = ["authorization", "content-type", "if-match", "if-none-match"]
    expose_headers = ["etag", "retry-after"]
    max_age        = 3600
  }
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  api_id           = aws_apigatewayv2_api.this.id
  name             = "${var.name}-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.jwt_issuer
    audience = var.jwt_audience
  }
}

resource "aws_apigatewayv2_integration" "function" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = var.function_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = var.integration_timeout_ms
}

resource "aws_apigatewayv2_route" "this" {
  for_each = local.routes

  api_id               = aws_apigatewayv2_api.this.id
  route_key            = each.key
  target               = "integrations/${aws_apigatewayv2_integration.function.id}"
  authorization_type   = "JWT"
  authorizer_id        = aws_apigatewayv2_authorizer.jwt.id
  authorization_scopes = length(each.value) > 0 ? each.value : null
}

# Routes the app serves without a credential (the health check uptime monitors and load balancers call): a more
# specific route key than the reader routes, so it wins over GET /monitoring/{proxy+}.
resource "aws_apigatewayv2_route" "public" {
  #checkov:skip=CKV_AWS_309:The health check answers without a credential on purpose; it reveals nothing.
  for_each = toset(var.public_routes)

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.function.id}"
  authorization_type = "NONE"
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
