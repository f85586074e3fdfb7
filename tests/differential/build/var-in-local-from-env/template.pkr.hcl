variable "list" {
  type = list(number)
}
locals {
  total = length(var.list)
  doubled = [for n in var.list : n * 2]
}
source "file" "out" {
  content = "${local.total} ${jsonencode(local.doubled)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
