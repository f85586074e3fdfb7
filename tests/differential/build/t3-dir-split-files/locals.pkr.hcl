locals {
  full = "${local.prefix}-${var.name}"
}
