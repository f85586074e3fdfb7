variable "pw" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
locals {
  greeting = "user: ${var.pw} end"
  plain    = "no secret here"
}
source "file" "x" {
  content = local.greeting
  target  = "out.txt"
}
build { sources = ["source.file.x"] }
