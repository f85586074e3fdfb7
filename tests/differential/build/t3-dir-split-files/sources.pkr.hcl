locals {
  prefix = "pre"
}
source "file" "out" {
  content = "${local.full}\n"
  target  = "out.txt"
}
