locals {
  m = { zeta = "z", alpha = "a", Mid = "m", "2" = "two", "10" = "ten" }
  l = [for k, v in local.m : "${k}:${v}"]
  vs = [for v in local.m : v]
}
source "file" "out" {
  content = "${join(",", local.l)}\n${join(",", local.vs)}\n${jsonencode(local.l)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
